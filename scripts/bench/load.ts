/**
 * The two load scenarios against POST /token with client_secret_basic, driven by autocannon
 * (keep-alive connections, no pipelining). Non-2xx responses are counted and sampled.
 */
import autocannon, { type Result } from 'autocannon';
import { BASIC_AUTH } from './shared.ts';

export interface LoadOptions {
  url: string;
  seconds: number;
  connections: number;
}

export interface Measurement {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  statuses: Record<string, number>;
  samples: string[];
  /** Latency of each successful operation, ms, sorted (phases measured in rounds are merged from these). */
  latencies: Float64Array;
}

const HEADERS = { authorization: BASIC_AUTH, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

interface Faults {
  samples: string[];
  /** Failures autocannon cannot see (a 200 without the expected field). */
  extra: number;
}

/** Percentile of sorted values (nearest rank). */
const percentile = (sorted: Float64Array, p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

function summarize(result: Result, faults: Faults, latencies: number[]): Measurement {
  const statuses: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count;
  const ok = statuses['200'] ?? 0;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: ok,
    rps: ok / result.duration,
    // autocannon's own histogram keeps whole milliseconds; these are exact (2xx only).
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: result.non2xx + result.errors + result.timeouts + result.mismatches + faults.extra,
    statuses,
    samples: faults.samples,
    latencies: sorted,
  };
}

function run(
  options: LoadOptions,
  requests: Parameters<typeof autocannon>[0]['requests'] & object,
  faults: Faults,
  path = '/token',
): Promise<Measurement> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `${options.url}${path}`, connections: options.connections, duration: options.seconds, pipelining: 1, timeout: 10, requests },
      (err, result) => (err ? reject(err) : resolve(summarize(result, faults, latencies))),
    ).on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

const note = (faults: Faults, line: string) => {
  if (faults.samples.length < 3) faults.samples.push(line.slice(0, 300));
};

export function clientCredentials(options: LoadOptions): Promise<Measurement> {
  const faults: Faults = { samples: [], extra: 0 };
  const onResponse = (status: number, body: string) => {
    if (status !== 200) note(faults, `${status} ${body}`);
  };
  return run(options, [{ method: 'POST', headers: HEADERS, body: 'grant_type=client_credentials', onResponse }], faults);
}

/**
 * Refresh tokens rotate: every token is used once. `queue` (changed in place) starts with freshly
 * minted tokens; each 200 response puts the rotated token back, each request takes one. With more
 * tokens than connections the queue never runs dry unless requests fail (then a bogus token is
 * sent and shows up as an error). What is left in it after a phase can be used by the next.
 */
export function refreshTokens(options: LoadOptions, queue: string[]): Promise<Measurement> {
  const faults: Faults = { samples: [], extra: 0 };
  return run(
    options,
    [
      {
        method: 'POST',
        headers: HEADERS,
        setupRequest: (request) => ({
          ...request,
          body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(queue.shift() ?? 'pool-exhausted')}`,
        }),
        onResponse: (status, body) => {
          if (status === 200) {
            const token = (JSON.parse(body) as { refresh_token?: string }).refresh_token;
            if (token) queue.push(token);
            else {
              faults.extra += 1;
              note(faults, `200 without refresh_token: ${body}`);
            }
          } else note(faults, `${status} ${body}`);
        },
      },
    ],
    faults,
  );
}

/** GET /me with a bearer access token, round-robin over `tokens` (none is used up). */
export function userinfo(options: LoadOptions, tokens: string[]): Promise<Measurement> {
  const faults: Faults = { samples: [], extra: 0 };
  let next = 0;
  return run(
    options,
    [
      {
        method: 'GET',
        setupRequest: (request) => ({
          ...request,
          headers: { accept: 'application/json', authorization: `Bearer ${tokens[next++ % tokens.length]}` },
        }),
        onResponse: (status, body) => {
          if (status !== 200) note(faults, `${status} ${body}`);
        },
      },
    ],
    faults,
    '/me',
  );
}

/** One request, outside the load, to check a scenario works at all before measuring it. */
export async function probe(url: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/token`, { method: 'POST', headers: HEADERS, body });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}
