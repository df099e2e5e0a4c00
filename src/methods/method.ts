/**
 * The one interface every authentication method implements (DESIGN §4): a flow asks a method
 * to start (what to render) and to verify (who, and which amr values per RFC 8176).
 */
import type { Account } from '../store.ts';

export type VerifyFailure =
  /** the input cannot be one (wrong format): safe to say so, it reveals nothing */
  | { ok: false; reason: 'malformed'; problem: string }
  /** wrong secret or no such account: the same answer for both */
  | { ok: false; reason: 'invalid' }
  /** too many failures for this login or from this address */
  | { ok: false; reason: 'locked'; retryAfter: number }
  /** the right secret for an account deleted but still in its grace: it may be restored, not signed in */
  | { ok: false; reason: 'deactivated'; account: Account };

export type VerifyResult = { ok: true; account: Account; amr: string[] } | VerifyFailure;

export interface AuthenticationMethod<Input> {
  readonly id: string;
  /** Data the sign-in page needs to offer this method (empty for a plain form). */
  start(): Record<string, unknown>;
  verify(input: Input): Promise<VerifyResult>;
}
