/**
 * Prometheus metrics (issue 14), one registry per app: HTTP requests by route template and status
 * with latency, token grants by type, sign-ins by method and outcome, lockouts, codes sent by
 * channel and purpose, store operation latency and, when the metrics listener is on, the process
 * and event-loop lag (prom-client's default metrics measure the lag with monitorEventLoopDelay).
 * Every label takes values from a small known set: raw paths, ids or typed text never become labels.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import { collectDefaultMetrics, Histogram, Counter, Registry } from 'prom-client';
import type { AuditEvent } from '../store.ts';
import { routedPath } from '../web/routed-path.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const GRANT_TYPES = new Set([
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:openid:params:grant-type:ciba',
  'urn:ietf:params:oauth:grant-type:token-exchange',
]);
/** A label value written by vkhod's own code (a method, a purpose): kept when it looks like one. */
const word = (value: unknown): string => (typeof value === 'string' && /^[a-z][a-z0-9_-]{0,31}$/.test(value) ? value : 'other');

/**
 * A finished sign-in is one `signin` event; failed steps are audited by their method (failures
 * only); operators sign in with their own event, both outcomes.
 */
const SIGN_IN_EVENTS: Array<{ type: string; method: string; failuresOnly: boolean }> = [
  { type: 'signin.password', method: 'password', failuresOnly: true },
  { type: 'signin.passkey', method: 'passkey', failuresOnly: true },
  { type: 'signin.second_factor', method: 'second_factor', failuresOnly: true },
  { type: 'federation.signin', method: 'bank', failuresOnly: true },
  { type: 'esign.signin', method: 'esignature', failuresOnly: true },
  { type: 'admin.signin', method: 'operator', failuresOnly: false },
];

export class Metrics {
  readonly registry = new Registry();
  readonly http = new Histogram({
    name: 'vkhod_http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status, with their latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly tokenGrants = new Counter({
    name: 'vkhod_token_grants_total',
    help: 'Token endpoint grants by grant type and outcome',
    labelNames: ['grant_type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly signIns = new Counter({
    name: 'vkhod_sign_ins_total',
    help: 'Citizen and operator sign-ins by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly lockouts = new Counter({
    name: 'vkhod_lockouts_total',
    help: 'Accounts locked by wrong passwords or codes (once per lockout period)',
    registers: [this.registry],
  });
  readonly codesSent = new Counter({
    name: 'vkhod_codes_sent_total',
    help: 'One-time codes sent, by channel and purpose',
    labelNames: ['channel', 'purpose'] as const,
    registers: [this.registry],
  });
  readonly store = new Histogram({
    name: 'vkhod_store_operation_duration_seconds',
    help: 'Store operations by repository, operation and outcome, with their latency',
    labelNames: ['repository', 'operation', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** `process`: also the process metrics and event-loop lag (only when something scrapes them). */
  constructor(options: { process?: boolean } = {}) {
    if (options.process) collectDefaultMetrics({ register: this.registry });
  }

  /** Koa middleware (outermost): one observation per request, labelled with the matched route template. */
  httpMiddleware() {
    // Promise callbacks rather than an async function with try/finally: this wraps every request.
    const observe = (ctx: Context, start: number, status: number) =>
      this.http.observe(
        { method: METHODS.has(ctx.method) ? ctx.method : 'other', route: routeOf(ctx), status: String(status) },
        (performance.now() - start) / 1000,
      );
    return (ctx: Context, next: Next): Promise<void> => {
      const start = performance.now();
      return next().then(
        () => observe(ctx, start, ctx.status),
        (err: unknown) => {
          observe(ctx, start, Number((err as { status?: number }).status) || 500);
          throw err;
        },
      );
    };
  }

  /** node-oidc-provider's token endpoint events. */
  observeProvider(provider: { on(event: string, listener: (ctx: Context) => void): unknown }): void {
    const grantType = (ctx: Context): string => {
      const oidc = (ctx as unknown as { oidc?: { params?: { grant_type?: unknown } } }).oidc;
      const given = oidc?.params?.grant_type ?? (ctx.request as { body?: { grant_type?: unknown } }).body?.grant_type;
      return typeof given === 'string' && GRANT_TYPES.has(given) ? given : 'other';
    };
    provider.on('grant.success', (ctx) => this.tokenGrants.inc({ grant_type: grantType(ctx), outcome: 'success' }));
    provider.on('grant.error', (ctx) => this.tokenGrants.inc({ grant_type: grantType(ctx), outcome: 'failure' }));
  }

  /** Sign-ins, read from the audit events every sign-in already writes. */
  observeAudit(event: AuditEvent): void {
    const outcome = event.outcome === 'failure' ? 'failure' : 'success';
    // `password+totp`, `bank:<id>+password`: labelled by the first method, without the bank's id.
    if (event.type === 'signin') {
      this.signIns.inc({ method: word(String(event.details?.method ?? '').split(/[+:]/)[0]), outcome });
      return;
    }
    const step = SIGN_IN_EVENTS.find((e) => e.type === event.type);
    if (step && (outcome === 'failure' || !step.failuresOnly)) this.signIns.inc({ method: step.method, outcome });
  }

  codeSent(purpose: string, channel: string): void {
    this.codesSent.inc({ channel: word(channel), purpose: word(purpose) });
  }

  /** The store wrapper's observer (src/observability/instrumented-store.ts). */
  storeOperation(repository: string, operation: string, seconds: number, ok: boolean): void {
    this.store.observe({ repository, operation, outcome: ok ? 'success' : 'failure' }, seconds);
  }
}

/** The route template a router matched (`/interaction/:uid`), a provider endpoint, or a fixed bucket. */
function routeOf(ctx: Context): string {
  const matched = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string' && matched) return matched.slice(0, 100);
  if (routedPath(ctx).startsWith('/static/')) return '/static/*';
  return 'unmatched';
}

/** The metrics listener's whole answer: GET /metrics, nothing else. */
export function metricsRequestHandler(metrics: Metrics) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n'),
    );
  };
}
