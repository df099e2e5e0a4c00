/**
 * Optional: CRLs fetched from a certificate's CRL distribution points (2.5.29.31), as a deployment
 * with internet access may want instead of copying CRL files (VKHOD_ESIGN_CRL_FETCH; off by default,
 * a deployment behind a firewall keeps files). Only http(s) addresses of certificates that already
 * chain to a trusted CA are fetched (the verifier asks after building the path), each with a
 * timeout and a size limit; a CRL is cached until its nextUpdate (at most `cacheSeconds`), and a
 * failed fetch is remembered briefly so a dead distribution point does not slow every sign-in.
 */
import type { Logger } from 'pino';
import * as pkijs from 'pkijs';

export interface CrlFetchOptions {
  timeoutMs: number;
  cacheSeconds: number;
  /** the largest CRL accepted (bytes) */
  maxBytes?: number;
  fetch?: typeof fetch;
}

interface Cached {
  crl?: pkijs.CertificateRevocationList;
  until: number;
}

const CRL_DISTRIBUTION_POINTS = '2.5.29.31';
const FAILURE_SECONDS = 60;

/** The http(s) addresses of a certificate's CRL distribution points. */
export function distributionPoints(certificate: pkijs.Certificate): string[] {
  const ext = certificate.extensions?.find((e) => e.extnID === CRL_DISTRIBUTION_POINTS);
  const parsed = ext?.parsedValue as pkijs.CRLDistributionPoints | undefined;
  const urls: string[] = [];
  for (const point of parsed?.distributionPoints ?? []) {
    const names = Array.isArray(point.distributionPoint) ? point.distributionPoint : [];
    for (const name of names as pkijs.GeneralName[]) {
      if (name.type === 6 && typeof name.value === 'string' && /^https?:\/\//i.test(name.value)) urls.push(name.value);
    }
  }
  return urls.slice(0, 4);
}

export class CrlFetcher {
  private readonly cache = new Map<string, Cached>();
  private readonly pending = new Map<string, Promise<pkijs.CertificateRevocationList | undefined>>();

  constructor(
    private readonly options: CrlFetchOptions,
    private readonly logger?: Logger,
  ) {}

  /** The CRLs behind `certificate`'s distribution points that could be had (from cache or fetched). */
  async crlsFor(certificate: pkijs.Certificate, now = Date.now()): Promise<{ urls: string[]; crls: pkijs.CertificateRevocationList[] }> {
    const urls = distributionPoints(certificate);
    const crls: pkijs.CertificateRevocationList[] = [];
    for (const url of urls) {
      const crl = await this.get(url, now);
      if (crl) crls.push(crl);
    }
    return { urls, crls };
  }

  private async get(url: string, now: number): Promise<pkijs.CertificateRevocationList | undefined> {
    const cached = this.cache.get(url);
    if (cached && cached.until > now) return cached.crl;
    let running = this.pending.get(url);
    if (!running) {
      running = this.download(url).finally(() => this.pending.delete(url));
      this.pending.set(url, running);
    }
    const crl = await running;
    if (crl) {
      const next = crl.nextUpdate?.value.getTime() ?? Infinity;
      this.cache.set(url, { crl, until: Math.min(next, now + this.options.cacheSeconds * 1000) });
      return crl;
    }
    // a failure: keep serving the last good list while it is still current, and retry later
    const stale = cached?.crl && (cached.crl.nextUpdate?.value.getTime() ?? 0) > now ? cached.crl : undefined;
    this.cache.set(url, { crl: stale, until: now + FAILURE_SECONDS * 1000 });
    return stale;
  }

  private async download(url: string): Promise<pkijs.CertificateRevocationList | undefined> {
    const maxBytes = this.options.maxBytes ?? 20 * 1024 * 1024;
    try {
      const res = await (this.options.fetch ?? fetch)(url, { signal: AbortSignal.timeout(this.options.timeoutMs), redirect: 'follow' });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > maxBytes) throw new Error('CRL too large');
        chunks.push(chunk);
      }
      let der = Buffer.concat(chunks);
      const text = der.subarray(0, 64).toString('latin1');
      if (text.includes('-----BEGIN'))
        der = Buffer.from(
          der
            .toString('latin1')
            .replace(/-----[^-]+-----/g, '')
            .replace(/\s+/g, ''),
          'base64',
        );
      return pkijs.CertificateRevocationList.fromBER(new Uint8Array(der));
    } catch (err) {
      this.logger?.warn({ url, err: (err as Error).message }, 'CRL could not be fetched from its distribution point');
      return undefined;
    }
  }
}
