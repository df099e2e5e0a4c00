/**
 * What a citizen does, as load: the full password code flow with a fresh cookie jar each time
 * (`/auth` → sign-in page → password → code at the relying party → `/token`), the consent
 * remembered on the account from an earlier sign-in. Plus its floor: argon2id verifies with
 * vkhod's own parameters at the same concurrency, and a /healthz sampler to see stalls.
 *
 * A small fetch client (undici keeps connections alive) rather than the tests' supertest agent:
 * the load generator shares the cores with the server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { hashPassword, verifyPassword } from '../../src/accounts/password-hash.ts';
import { csrfOf, decodeEntities, formAction } from '../../test/support/browser.ts';
import { BASIC_AUTH, BENCH_CLIENT, BENCH_PASSWORD } from './shared.ts';

/**
 * The citizens who sign in: one per concurrent loop. Concurrent sign-ins of one account are held
 * to the lockout's budget (each attempt reserves a point before the password is checked).
 */
export const benchPhone = (i: number) => `+7999${String(10000000 + i).slice(1)}`;
export { BENCH_PASSWORD } from './shared.ts';
const REDIRECT_URI = BENCH_CLIENT.redirect_uris[0];

export interface FlowResult {
  ok: boolean;
  /** what went wrong, for the report */
  failure?: string;
  accessToken?: string;
  refreshToken?: string;
}

/**
 * One browser: a cookie jar and manual redirects within the provider. Each comes from its own
 * address through the (trusted) proxy, as citizens do: per-IP limits apply to each as in life.
 */
class Jar {
  private readonly cookies = new Map<string, string>();
  private readonly address = `10.${randomBytes(3).join('.')}`;

  constructor(private readonly base: string) {}

  private header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (gone || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** One request; the answer's body as text and where it redirects (absolute). */
  async request(path: string, init: { method?: string; form?: Record<string, string> } = {}) {
    const response = await fetch(new URL(path, this.base), {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        cookie: this.header(),
        'accept-language': 'ru',
        'x-forwarded-for': this.address,
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams(init.form) : undefined,
    });
    this.keep(response);
    const location = response.headers.get('location');
    return { status: response.status, html: await response.text(), location: location ? new URL(location, this.base).href : undefined };
  }

  /** Follows redirects that stay on the provider; stops at a page or a redirect elsewhere. */
  async follow(first: { status: number; html: string; location?: string }) {
    let page = first;
    for (let i = 0; i < 10 && page.location && page.location.startsWith(this.base); i += 1) page = await this.request(page.location);
    return page;
  }
}

/** The flow; a consent page (prompt=consent, which offline_access needs) is answered "allow". */
export async function passwordCodeFlow(
  url: string,
  options: { scope?: string; prompt?: string; citizen?: number } = {},
): Promise<FlowResult> {
  const jar = new Jar(url);
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: BENCH_CLIENT.client_id,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: options.scope ?? 'openid',
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(options.prompt ? { prompt: options.prompt } : {}),
  });
  let page = await jar.follow(await jar.request(`/auth?${query}`));
  if (page.status !== 200) return { ok: false, failure: `sign-in page: ${page.status}` };
  page = await jar.follow(
    await jar.request(formAction(page.html, '/login'), {
      method: 'POST',
      form: { _csrf: csrfOf(page.html), identifier: benchPhone(options.citizen ?? 0), password: BENCH_PASSWORD },
    }),
  );
  if (!page.location && /action="[^"]*\/consent/.test(page.html)) {
    page = await jar.follow(
      await jar.request(decodeEntities(formAction(page.html, '/consent')), {
        method: 'POST',
        form: { _csrf: csrfOf(page.html), decision: 'allow' },
      }),
    );
  }
  const code = page.location ? new URL(page.location).searchParams.get('code') : null;
  if (!code) {
    const alert = /role="alert"[^>]*>([^<]+)</.exec(page.html)?.[1];
    return { ok: false, failure: `no code: ${page.status} ${page.location ?? alert ?? page.html.slice(0, 200).replace(/\s+/g, ' ')}` };
  }
  const response = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { authorization: BASIC_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, string>;
  if (response.status !== 200 || !body.id_token) return { ok: false, failure: `token: ${response.status} ${JSON.stringify(body)}` };
  return { ok: true, accessToken: body.access_token, refreshToken: body.refresh_token };
}

export interface Closed {
  ops: number;
  seconds: number;
  /** per op, ms, sorted */
  latencies: Float64Array;
  errors: number;
  samples: string[];
}

/** `concurrency` loops each running `op` back to back for `seconds`. */
export async function closedLoop(seconds: number, concurrency: number, op: (loop: number) => Promise<string | undefined>): Promise<Closed> {
  const latencies: number[] = [];
  const samples: string[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < end) {
        const t = performance.now();
        let failure: string | undefined;
        try {
          failure = await op(loop);
        } catch (err) {
          failure = (err as Error).message;
        }
        if (failure === undefined) latencies.push(performance.now() - t);
        else {
          errors += 1;
          if (samples.length < 3) samples.push(failure.slice(0, 300));
        }
      }
    }),
  );
  return {
    ops: latencies.length,
    seconds: (performance.now() - started) / 1000,
    latencies: Float64Array.from(latencies).sort(),
    errors,
    samples,
  };
}

export const signInLoad = (url: string, seconds: number, concurrency: number) =>
  closedLoop(seconds, concurrency, async (loop) => (await passwordCodeFlow(url, { citizen: loop })).failure);

/** argon2id verifies of the bench password against its hash, vkhod's own code and parameters. */
export async function argon2Load(seconds: number, concurrency: number): Promise<Closed> {
  const hash = await hashPassword(BENCH_PASSWORD);
  return closedLoop(seconds, concurrency, async () => ((await verifyPassword(hash, BENCH_PASSWORD)) ? undefined : 'verify failed'));
}

/**
 * The sampler's loop, in a worker thread: the load generator's own event loop (8 sign-in loops
 * parsing pages) would otherwise delay every reply it reads, and its lag would count as the server's.
 */
const SAMPLER = `
const { parentPort, workerData } = require('node:worker_threads');
const latencies = [];
let running = true;
parentPort.once('message', () => { running = false; });
(async () => {
  // Untimed: a new thread's first fetch loads and compiles the HTTP client and opens the
  // connection (tens of ms on this side, none of it the server's).
  await fetch(workerData.url + '/healthz').then((r) => r.arrayBuffer(), () => undefined);
  while (running) {
    const t = performance.now();
    const ok = await fetch(workerData.url + '/healthz').then(async (r) => (await r.arrayBuffer(), r.ok), () => false);
    if (ok) latencies.push(performance.now() - t);
    await new Promise((resolve) => setTimeout(resolve, workerData.everyMs));
  }
  parentPort.postMessage(latencies);
})();
`;

/** GET /healthz every `everyMs` from a thread of its own until stopped; the latencies, sorted. */
export function healthSampler(url: string, everyMs = 50): { stop(): Promise<Float64Array> } {
  const worker = new Worker(SAMPLER, { eval: true, workerData: { url, everyMs } });
  const done = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const latencies = await done;
      await worker.terminate();
      return Float64Array.from(latencies).sort();
    },
  };
}

/** Percentile of sorted values (nearest rank). */
export const percentile = (sorted: Float64Array, p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
