/**
 * Relying parties registered for the ESIA profile: the `esia` block of a client definition
 * (config/clients.ts) read once at start — the certificate that signs its requests, its redirect
 * URIs, its scopes, how its tokens are signed. The internal registration each one also gets at
 * node-oidc-provider, through which the citizen signs in on vkhod's own pages, is in
 * registration.ts. This module loads pkijs/asn1js: it is imported only where an ESIA client is
 * configured (services.ts) or its certificate read.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { ClientMetadata } from '../../config/clients.ts';
import { ESIA_SCOPES, unknownEsiaScopes, type EsiaClient } from './registration.ts';

export function parseCertificatePem(pem: string): { certificate: pkijs.Certificate; der: Buffer } {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (!body) throw new Error('not a PEM certificate');
  const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const asn = asn1js.fromBER(der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer);
  if (asn.offset === -1) throw new Error('the certificate cannot be read');
  return { certificate: new pkijs.Certificate({ schema: asn.result }), der };
}

/** The ESIA clients among the registrations, by client_id (mnemonic). Throws a clear message for a bad one. */
export function readEsiaClients(clients: ClientMetadata[]): Map<string, EsiaClient> {
  const out = new Map<string, EsiaClient>();
  for (const client of clients) {
    const esia = client.esia;
    if (!esia) continue;
    const unknown = unknownEsiaScopes(esia.scope);
    if (unknown.length)
      throw new Error(`client ${client.client_id}: esia.scope: unknown ${unknown.join(', ')} (known: ${ESIA_SCOPES.join(' ')})`);
    let parsed;
    try {
      parsed = parseCertificatePem(esia.certificate);
    } catch (err) {
      throw new Error(`client ${client.client_id}: esia.certificate: ${(err as Error).message}`);
    }
    out.set(client.client_id, {
      clientId: client.client_id,
      name: client.client_name,
      certificate: parsed.certificate,
      certificateDer: parsed.der,
      redirectUris: esia.redirect_uris,
      logoutRedirectUris: esia.logout_redirect_uris ?? [],
      scopes: new Set(esia.scope.split(/\s+/).filter(Boolean)),
      tokenAlg: esia.token_signing_alg,
    });
  }
  return out;
}
