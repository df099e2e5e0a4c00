/**
 * ESIA's error codes (ESIA-007xxx), as "Методические рекомендации по использованию ЕСИА" list them
 * for the authorization and token endpoints, each with the OAuth 2.0 error it stands for. A
 * redirect carries `error=<oauth>&error_description=<ESIA code>: <text>&state=…`; the token
 * endpoint answers the same two in JSON. docs/esia-migration.md lists them.
 */
export const ESIA_ERRORS = {
  /** the scope asked for is unknown or not registered for the client */
  invalid_scope: { code: 'ESIA-007006', oauth: 'invalid_scope' },
  /** no scope at all (RFC 6749 §3.3: invalid_scope) */
  missing_scope: { code: 'ESIA-007013', oauth: 'invalid_scope' },
  /** a required parameter is missing, repeated or malformed; a `state` already used */
  missing_parameter: { code: 'ESIA-007003', oauth: 'invalid_request' },
  /** the citizen refused (consent) or the sign-in was abandoned */
  access_denied: { code: 'ESIA-007004', oauth: 'access_denied' },
  server_error: { code: 'ESIA-007007', oauth: 'server_error' },
  temporarily_unavailable: { code: 'ESIA-007008', oauth: 'temporarily_unavailable' },
  unsupported_response_type: { code: 'ESIA-007009', oauth: 'unsupported_response_type' },
  /** the code or refresh token is invalid, expired, used, or was issued to another client */
  invalid_grant: { code: 'ESIA-007011', oauth: 'invalid_grant' },
  unsupported_grant_type: { code: 'ESIA-007012', oauth: 'unsupported_grant_type' },
  /** `/v2/ac`, `/v3/te`: no `client_certificate_hash` */
  missing_certificate_hash: { code: 'ESIA-007014', oauth: 'invalid_request' },
  /** `/v2/ac`, `/v3/te`: `client_certificate_hash` is not the hash of the certificate registered for the client */
  certificate_mismatch: { code: 'ESIA-007002', oauth: 'invalid_request' },
  /** `client_secret` is not a signature of these parameters by the registered certificate, or the certificate is not valid now */
  invalid_signature: { code: 'ESIA-007053', oauth: 'invalid_request' },
  /** `timestamp` is malformed or outside the allowed window */
  invalid_timestamp: { code: 'ESIA-007015', oauth: 'invalid_request' },
  /** the token endpoint does not know the `client_id` */
  unknown_client: { code: 'ESIA-008010', oauth: 'invalid_client' },
} as const;

export type EsiaProblem = keyof typeof ESIA_ERRORS;

export class EsiaError extends Error {
  constructor(
    readonly problem: EsiaProblem,
    /** English, for the integrator (error_description after the code) */
    readonly detail: string,
  ) {
    super(`${ESIA_ERRORS[problem].code}: ${detail}`);
    this.name = 'EsiaError';
  }

  get oauth(): string {
    return ESIA_ERRORS[this.problem].oauth;
  }

  get code(): string {
    return ESIA_ERRORS[this.problem].code;
  }

  /** `error` and `error_description` as ESIA sends them. */
  fields(): { error: string; error_description: string } {
    return { error: this.oauth, error_description: this.message };
  }
}
