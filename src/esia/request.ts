/**
 * What the authorization and token endpoints check alike in an ESIA request: single-valued
 * parameters, the `timestamp` window, the signature over the concatenation, the `state` used once.
 */
import { createHash } from 'node:crypto';
import { streebog256 } from '../methods/esign/gost/streebog.ts';
import type { Services } from '../services.ts';
import type { EsiaClient } from './registration.ts';
import { EsiaError } from './errors.ts';
import { parseEsiaTimestamp } from './timestamp.ts';

export type Params = Record<string, string | undefined>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_PARAM = 4096;

/** The request's parameters, each at most once and of sane length (repeated or long → ESIA-007003). */
export function readParams(source: Record<string, unknown> | undefined, names: readonly string[]): Params {
  const out: Params = {};
  for (const name of names) {
    const value = source?.[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new EsiaError('missing_parameter', `${name} must be given once`);
    if (value.length > MAX_PARAM) throw new EsiaError('missing_parameter', `${name} is too long`);
    out[name] = value;
  }
  return out;
}

/**
 * `client_certificate_hash` (`/v2/ac`, `/v3/te`): present, and the registered certificate's hash in
 * hex (Streebog-256 as ESIA's tool makes it, or SHA-256).
 */
export function checkCertificateHash(client: EsiaClient, params: Params): void {
  const given = params.client_certificate_hash?.trim().toLowerCase();
  if (!given) throw new EsiaError('missing_certificate_hash', 'client_certificate_hash is required');
  const registered = [
    Buffer.from(streebog256(client.certificateDer)).toString('hex'),
    createHash('sha256').update(client.certificateDer).digest('hex'),
  ];
  if (!registered.includes(given))
    throw new EsiaError('certificate_mismatch', 'client_certificate_hash is not the registered certificate’s');
}

export function required(params: Params, ...names: string[]): void {
  for (const name of names) if (!params[name]) throw new EsiaError('missing_parameter', `${name} is required`);
}

/**
 * Checks `timestamp`, the signature `client_secret` over each concatenation `orders` builds (one
 * spelling of the timestamp each), then spends `state` (once per client, across both endpoints).
 */
export async function checkSignedRequest(
  services: Services,
  client: EsiaClient,
  params: Params,
  orders: Array<(timestamp: string) => string>,
  /** the client IP (per-IP limit on failed signatures) */
  ip: string,
): Promise<void> {
  if (!UUID.test(params.state ?? '')) throw new EsiaError('missing_parameter', 'state must be a UUID');
  const timestamp = parseEsiaTimestamp(params.timestamp ?? '');
  if (!timestamp) throw new EsiaError('invalid_timestamp', 'timestamp must be yyyy.MM.dd HH:mm:ss Z');
  const windowMs = services.config.esia.timestampWindowSeconds * 1000;
  if (Math.abs(Date.now() - timestamp.at) > windowMs) throw new EsiaError('invalid_timestamp', 'timestamp is outside the allowed window');
  const contents = [...new Set(timestamp.spellings.flatMap((spelling) => orders.map((order) => order(spelling))))];
  // A signature check costs CPU (GOST in particular): an address whose requests keep failing it is
  // turned away before the check, on the per-IP rule of authorization requests.
  if ((await services.limits.peek('authorize-ip', ip)).blocked)
    throw new EsiaError('temporarily_unavailable', 'too many requests, try later');
  // The signature check loads pkijs/asn1js: on the first ESIA request, not at start (deployments
  // without ESIA clients never load them).
  const { requestSignatureRefusal } = await import('./signature.ts');
  try {
    const refusal = await requestSignatureRefusal(client, params.client_secret ?? '', contents);
    if (refusal) throw new EsiaError('invalid_signature', refusal);
  } catch (err) {
    await services.limits.hit('authorize-ip', ip);
    throw err;
  }
  // Once signed and in its window, the state is spent (a replay of this very request fails here).
  // It is remembered past the window, so the same request can never come back inside it. One
  // namespace for both endpoints: v1 signs the same concatenation at both, so the signature of an
  // authorization request (it passes through the browser) must not authenticate a token request.
  const until = new Date(timestamp.at + windowMs + 60_000).toISOString();
  if (!(await services.store.esia.useOnce(`${client.clientId}.${params.state!.toLowerCase()}`, until)))
    throw new EsiaError('missing_parameter', 'this state was already used');
}
