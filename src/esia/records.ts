/**
 * What the ESIA profile keeps between requests. An authorization waiting for the sign-in and a
 * code waiting for its token request are flow records (web/flow-records.ts); the tokens are
 * records in the store's OIDC table carrying `accountId` and `grantId`, so ending the account's
 * sessions, resetting its password or withdrawing the consent in the cabinet (which revoke by
 * account or by grant) ends them too.
 */
import { FlowRecords } from '../web/flow-records.ts';

/** An ESIA authorization request, checked, while the citizen signs in (the key rides as the internal `state`). */
export interface PendingEsiaAuthorization {
  clientId: string;
  redirectUri: string;
  /** the client's own state, given back with the code */
  state: string;
  scopes: string[];
  accessType: 'online' | 'offline';
}

/** A sign-in's outcome behind an ESIA code: bound to the client, its redirect_uri and the scopes granted. */
export interface EsiaSignIn {
  clientId: string;
  redirectUri: string;
  accountId: string;
  scopes: string[];
  accessType: 'online' | 'offline';
  /** node-oidc-provider's grant of this sign-in: revoked when the consent is withdrawn */
  grantId: string;
  /** the provider session's `sid` (urn:esia:sid) */
  sid: string;
  /** seconds since the epoch */
  authTime: number;
  amr: string[];
  acr?: string;
}

export const pendingAuthorizations = new FlowRecords<PendingEsiaAuthorization>('esia-auth', 3600);
/** ESIA codes are short-lived and single use. */
export const esiaCodes = new FlowRecords<EsiaSignIn>('esia-code', 120);

/** Issued refresh tokens (id: the token), rotated on use. */
export const REFRESH_TOKEN_MODEL = 'EsiaRefreshToken';
/** Issued access tokens (id: the JWT's jti): the person API honours a token only while its record lives. */
export const ACCESS_TOKEN_MODEL = 'EsiaAccessToken';

export interface EsiaTokenRecord extends EsiaSignIn {
  [key: string]: unknown;
  oid: number;
}
