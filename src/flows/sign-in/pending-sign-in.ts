/**
 * A sign-in in progress inside an interaction: the first step is proven, something is still
 * missing (a second factor, enrolment of one, a higher account level). Kept in a flow record
 * bound to the interaction for 15 minutes.
 */
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import type { Account } from '../../accounts/account.ts';
import { UserError } from '../../web/errors.ts';
import { FlowRecords } from '../../web/flow-records.ts';
import { loadInteraction, type InteractionDetails } from '../interaction/context.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'provider' | 'store'>;

export interface PendingSignIn {
  accountId: string;
  /** what the first step proved */
  amr: string[];
  remember: boolean;
  method: string;
  /** SMS challenge in progress */
  challengeId?: string;
  /** TOTP seed offered for enrolment, sealed */
  enrolSecret?: string;
  /** The code sent to the account's confirmed contact before enrolment (`mfa-enrol`) */
  contactChallengeId?: string;
  /**
   * A confirmed contact of the account proven in this sign-in (a code to the mobile: `sms`, to
   * the e-mail: `otp`). Enrolment of a factor inside a sign-in needs it: the factor being
   * enrolled is the citizen's own choice and proves nothing yet, so this is the second factor.
   */
  contactProven?: 'sms' | 'otp';
  /**
   * Set only when the sign-in got everything it needs but the account level (the explanation
   * page, /unmet): the level upgrade pages serve such a sign-in and no other.
   */
  unmet?: boolean;
  /** The original authentication time of a session being re-issued (kept, never made fresh). */
  ts?: number;
  /** When the person last proved who they are in this sign-in (seconds): identity changes need it recent. */
  authTime?: number;
}

/** Keyed by the interaction uid. */
export const pendingSignIns = new FlowRecords<PendingSignIn>('mfa', 900);

export async function savePending(services: Deps, uid: string, pending: PendingSignIn): Promise<void> {
  await pendingSignIns.in(services.store).save(uid, pending);
}

/** The sign-in is over (or abandoned): its pending record goes. */
export async function discardPending(services: Deps, uid: string): Promise<void> {
  await pendingSignIns.in(services.store).discard(uid);
}

export async function loadPending(
  services: Deps,
  ctx: Context,
): Promise<{ details: InteractionDetails; pending: PendingSignIn; account: Account }> {
  const details = await loadInteraction(services.provider, ctx);
  const pending = await pendingSignIns.in(services.store).load(details.uid);
  const account = pending && (await services.accounts.findActive(pending.accountId));
  if (!pending || !account) throw new UserError(400, 'errors.interaction_expired');
  return { details, pending, account };
}
