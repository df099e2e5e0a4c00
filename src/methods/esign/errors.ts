/**
 * Why an e-signature was refused. Apart from verify.ts so that the sign-in can tell these
 * refusals from other failures without loading pkijs/asn1js before a signature is checked.
 */
export type EsignProblem =
  | 'malformed'
  | 'no_certificate'
  | 'gost_unsupported'
  | 'unsupported_algorithm'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'key_usage'
  | 'untrusted'
  | 'revoked'
  | 'revocation_unknown';

export class EsignError extends Error {
  constructor(
    readonly code: EsignProblem,
    readonly detail?: string,
  ) {
    super(`${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'EsignError';
  }
}
