/**
 * Tokens in ESIA's shape. The access token is a JWT with `urn:esia:sbj_id` (the oid), `scope`
 * with ESIA's `?oid=` suffixes, `client_id`, `iss`, `nbf`, `exp`, `iat`; the ID token carries
 * `urn:esia:sbj` (typ "P", the numeric oid, the pseudonym "OID.<oid>", `is_tru` only for a
 * confirmed account), `urn:esia:amd`, `urn:esia:sid`, `amr`, `auth_time`, `sub` (the oid). Signed
 * RS256 with vkhod's signing key (published at /jwks) or GOST R 34.10-2012 for clients registered
 * for it (gost-signer.ts). The header is ESIA's (`typ`, `sbt`, `ver`) plus `kid`.
 */
import { randomBytes } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import { ESIA_SUBJECT_CLAIM, esiaSubject } from '../oidc/claims.ts';
import type { AccountLevel } from '../store.ts';
import type { EsiaClient } from './registration.ts';
import type { EsiaSignIn } from './records.ts';

/** Signs a JWS compact serialization for one algorithm. */
export interface EsiaJwtSigner {
  readonly alg: string;
  sign(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string>;
}

/** RS256 with the provider's active RSA signing key (the same key /jwks publishes). */
export async function rsaSigner(jwks: { keys: object[] }): Promise<EsiaJwtSigner> {
  const jwk = (jwks.keys as JWK[]).find((k) => k.kty === 'RSA' && k.d && (!k.alg || k.alg === 'RS256') && k.use !== 'enc');
  if (!jwk) throw new Error('no RSA signing key');
  const key = await importJWK(jwk, 'RS256');
  return {
    alg: 'RS256',
    sign: (header, payload) =>
      new SignJWT(payload).setProtectedHeader({ ...header, alg: 'RS256', ...(jwk.kid ? { kid: jwk.kid } : {}) }).sign(key),
  };
}

/** ESIA's authentication method names for vkhod's amr (RFC 8176). */
export function esiaAmd(amr: readonly string[]): string {
  if (amr.includes('sc')) return 'DS';
  if (amr.includes('fed')) return 'BNK';
  return 'PWD';
}

/** `fullname?oid=1000000123 snils?oid=1000000123 openid`: ESIA names the subject in each person scope. */
export function esiaScopeString(scopes: readonly string[], oid: number): string {
  return scopes.map((s) => (s === 'openid' ? s : `${s}?oid=${oid}`)).join(' ');
}

export interface MintedTokens {
  access_token: string;
  id_token: string;
  expires_in: number;
  jti: string;
}

export class EsiaTokens {
  constructor(
    private readonly issuer: string,
    private readonly signers: ReadonlyMap<string, EsiaJwtSigner>,
    private readonly ttl: { accessToken: number; idToken: number },
  ) {}

  private signer(client: EsiaClient): EsiaJwtSigner {
    const signer = this.signers.get(client.tokenAlg);
    if (!signer) throw new Error(`no signer for ${client.tokenAlg}`);
    return signer;
  }

  async mint(client: EsiaClient, signIn: EsiaSignIn, oid: number, level: AccountLevel): Promise<MintedTokens> {
    const signer = this.signer(client);
    const now = Math.floor(Date.now() / 1000);
    const jti = randomBytes(16).toString('hex');
    const access = await signer.sign(
      { typ: 'JWT', sbt: 'access', ver: 1 },
      {
        nbf: now,
        iat: now,
        exp: now + this.ttl.accessToken,
        iss: this.issuer,
        client_id: client.clientId,
        scope: esiaScopeString(signIn.scopes, oid),
        'urn:esia:sid': signIn.sid,
        'urn:esia:sbj_id': oid,
        jti,
      },
    );
    const amd = esiaAmd(signIn.amr);
    const id = await signer.sign(
      { typ: 'JWT', sbt: 'id', ver: 1 },
      {
        iss: this.issuer,
        aud: client.clientId,
        sub: oid,
        nbf: now,
        iat: now,
        exp: now + this.ttl.idToken,
        auth_time: signIn.authTime,
        amr: amd,
        'urn:esia:amd': amd,
        'urn:esia:sid': signIn.sid,
        [ESIA_SUBJECT_CLAIM]: esiaSubject(oid, level),
        ...(signIn.acr ? { acr: signIn.acr } : {}),
      },
    );
    return { access_token: access, id_token: id, expires_in: this.ttl.accessToken, jti };
  }
}
