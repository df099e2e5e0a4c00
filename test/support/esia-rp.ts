/**
 * An ESIA-style relying party, as ESIA's client libraries are written: a key and certificate made
 * by OpenSSL (RSA, or GOST R 34.10-2012 through Debian's GOST engine), each request signed with
 * `openssl cms -sign` (detached, DER, Base64 URL-safe) over the concatenation ESIA defines, a UUID
 * `state` and a `yyyy.MM.dd HH:mm:ss Z` timestamp per request.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { expect } from 'chai';
import { Browser } from './browser.ts';
import { GOOD_PASSWORD } from './flows.ts';
import type { Harness } from './harness.ts';
import { openssl } from './openssl-gost.ts';

export type EsiaKeyKind = 'rsa' | 'gost';

export const ESIA_RP_REDIRECT = 'https://esia-rp.example.test/esia/callback';
export const ESIA_RP_LOGOUT = 'https://esia-rp.example.test/bye';

/** `yyyy.MM.dd HH:mm:ss Z` in Moscow time (+0300), `shiftMs` from now. */
export function esiaTimestamp(shiftMs = 0): string {
  const d = new Date(Date.now() + shiftMs + 3 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}.${p(d.getUTCMonth() + 1)}.${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0300`;
}

export class EsiaRelyingParty {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  readonly certificatePem: string;

  constructor(
    readonly clientId: string,
    readonly kind: EsiaKeyKind,
    readonly scope = 'openid fullname birthdate gender snils inn id_doc email mobile contacts addresses',
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `vkhod-esia-rp-${kind}-`));
    this.key = join(this.dir, 'rp.key');
    this.cert = join(this.dir, 'rp.pem');
    const engine = kind === 'gost' ? ['-engine', 'gost'] : [];
    if (kind === 'gost') openssl(['genpkey', ...engine, '-algorithm', 'gost2012_256', '-pkeyopt', 'paramset:A', '-out', this.key]);
    else openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', this.key]);
    openssl([
      'req',
      ...engine,
      '-x509',
      '-new',
      '-key',
      this.key,
      '-subj',
      `/C=RU/O=Test service/CN=${clientId}`,
      '-days',
      '30',
      ...(kind === 'gost' ? ['-md_gost12_256'] : ['-sha256']),
      '-out',
      this.cert,
    ]);
    this.certificatePem = readFileSync(this.cert, 'utf8');
  }

  /** The client definition for the clients file. */
  registration(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      client_id: this.clientId,
      client_name: `ЕСИА-сервис ${this.clientId}`,
      esia: {
        certificate: this.certificatePem,
        redirect_uris: [ESIA_RP_REDIRECT],
        logout_redirect_uris: [ESIA_RP_LOGOUT],
        scope: this.scope,
        ...extra,
      },
    };
  }

  /** `openssl cms -sign`, detached, DER, Base64 URL-safe without padding. */
  sign(content: string): string {
    const input = join(this.dir, 'content.txt');
    writeFileSync(input, content, 'utf8');
    const engine = this.kind === 'gost' ? ['-engine', 'gost'] : [];
    const der = openssl([
      'cms',
      '-sign',
      ...engine,
      '-binary',
      '-md',
      this.kind === 'gost' ? 'md_gost12_256' : 'sha256',
      '-signer',
      this.cert,
      '-inkey',
      this.key,
      '-in',
      input,
      '-outform',
      'DER',
    ]);
    return der.toString('base64url');
  }

  /** The authorization request URL path (v1 `/aas/oauth2/ac`, or v2 with client_certificate_hash). */
  authorizePath(
    options: {
      scope?: string;
      state?: string;
      timestamp?: string;
      accessType?: 'online' | 'offline';
      version?: 1 | 2;
      signer?: EsiaRelyingParty;
    } = {},
  ): { path: string; state: string; params: Record<string, string> } {
    const scope = options.scope ?? this.scope;
    const state = options.state ?? randomUUID();
    const timestamp = options.timestamp ?? esiaTimestamp();
    const signer = options.signer ?? this;
    const version = options.version ?? 1;
    const content =
      version === 1 ? scope + timestamp + this.clientId + state : this.clientId + scope + timestamp + state + ESIA_RP_REDIRECT;
    const params: Record<string, string> = {
      client_id: this.clientId,
      client_secret: signer.sign(content),
      redirect_uri: ESIA_RP_REDIRECT,
      scope,
      response_type: 'code',
      state,
      timestamp,
      access_type: options.accessType ?? 'online',
    };
    if (version === 2) params.client_certificate_hash = this.certificateHash();
    return { path: `/aas/oauth2/${version === 2 ? 'v2/' : ''}ac?${new URLSearchParams(params)}`, state, params };
  }

  /** The certificate's Streebog-256 hash (hex), as ESIA's tool computes it; SHA-256 for RSA. */
  certificateHash(): string {
    const der = openssl(['x509', '-in', this.cert, '-outform', 'DER']);
    if (this.kind === 'gost') return openssl(['dgst', '-engine', 'gost', '-md_gost12_256', '-r'], der).toString().split(' ')[0]!.trim();
    return openssl(['dgst', '-sha256', '-r'], der).toString().split(' ')[0]!.trim();
  }

  /** The token request's form (v1 signature: scope + timestamp + client_id + state). */
  tokenForm(
    grant: { code: string } | { refresh_token: string },
    options: { scope?: string; state?: string; timestamp?: string; signer?: EsiaRelyingParty; version?: 1 | 3 } = {},
  ): Record<string, string> {
    const scope = options.scope ?? this.scope;
    const state = options.state ?? randomUUID();
    const timestamp = options.timestamp ?? esiaTimestamp();
    const tail = 'code' in grant ? grant.code : grant.refresh_token;
    const content =
      (options.version ?? 1) === 1
        ? scope + timestamp + this.clientId + state
        : this.clientId + scope + timestamp + state + ESIA_RP_REDIRECT + tail;
    return {
      client_id: this.clientId,
      ...('code' in grant
        ? { code: grant.code, grant_type: 'authorization_code' }
        : { refresh_token: grant.refresh_token, grant_type: 'refresh_token' }),
      client_secret: (options.signer ?? this).sign(content),
      state,
      redirect_uri: ESIA_RP_REDIRECT,
      scope,
      timestamp,
      token_type: 'Bearer',
      ...(options.version === 3 ? { client_certificate_hash: this.certificateHash() } : {}),
    };
  }

  tokenRequest(url: string, form: Record<string, string>, version: 1 | 3 = 1) {
    return request(url)
      .post(version === 3 ? '/aas/oauth2/v3/te' : '/aas/oauth2/te')
      .type('form')
      .send(form);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Signs in through the hosted pages from an ESIA authorization request; returns the RP's redirect. */
export async function esiaSignIn(h: Harness, path: string, phone: string): Promise<URL> {
  const browser = new Browser(h);
  let page = await browser.get(path);
  if (!page.location) {
    expect(page.html, 'the hosted sign-in page').to.include('name="identifier"');
    page = await browser.submit(page, '/login', { identifier: phone, password: GOOD_PASSWORD });
    if (!page.location && page.html.includes('/consent')) page = await browser.submit(page, '/consent', { decision: 'allow' });
  }
  expect(page.location, page.html.slice(0, 400)).to.be.a('string');
  const url = new URL(page.location!);
  expect(url.origin + url.pathname).to.equal(ESIA_RP_REDIRECT);
  return url;
}
