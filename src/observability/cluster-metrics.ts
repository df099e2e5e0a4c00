/**
 * Metrics of a cluster (VKHOD_WORKERS > 1): the supervisor alone listens on the metrics port and
 * answers a scrape with the sum over every worker, gathered over the cluster's IPC channel by
 * prom-client's AggregatorRegistry. Were the workers to listen there, they would share the socket
 * like the main listener and each scrape would see one worker picked at random: counters jumping
 * back and forth, a worker's traffic missing. Counters and histograms are summed; gauges follow
 * the aggregation each metric declares (prom-client's process metrics: sums, lag averaged…).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** In a worker: what the supervisor's scrape collects from this process. */
export function shareWithSupervisor(registry: Registry): void {
  // Constructing one is what makes prom-client answer the supervisor's requests in a worker.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** In the supervisor: GET /metrics answered with every worker's metrics, summed. */
export function clusterMetricsRequestHandler() {
  const aggregator = new AggregatorRegistry();
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    aggregator.clusterMetrics().then(
      (text) => res.writeHead(200, { 'content-type': aggregator.contentType, 'cache-control': 'no-store' }).end(text),
      () =>
        res
          .writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' })
          .end('metrics unavailable: a worker did not answer\n'),
    );
  };
}
