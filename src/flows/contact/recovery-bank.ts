/**
 * Recovery without the phone or e-mail, with a bank that knows the person (`/recover/bank`):
 *
 *   POST /recover/bank/:bank         → the bank (the shared round trip, federation/round-trip.ts)
 *   GET  /federation/callback        → (federation-callback.ts) back here
 *   GET  /recover/bank-return        → check the response; an account it matches gets a password form
 *   GET|POST /recover/bank/password/:id → the new password; every session and token ends
 *
 * The bank must know the person by the rules its confirmation uses (external-identity.ts): its
 * subject is already linked to the account, or — an accredited bank with enough data — the
 * account's verified SNILS, or its verified passport with the same name and birth date, and
 * nothing that conflicts. Numbers only typed into an account prove nothing (anyone can type
 * someone else's). A bank sign-in is one factor (amr `fed`), so the citizen then lands at the
 * cabinet's sign-in and a second factor the account has is still asked (advance()).
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { conflicts, findByProfile, matchedOnlyByTypedNumbers } from '../../accounts/external-identity.ts';
import { earnedVerification, FED_AMR, type BankIdentity } from '../../methods/bank.ts';
import type { Services } from '../../services.ts';
import type { Account } from '../../accounts/account.ts';
import { UserError } from '../../web/errors.ts';
import { FlowRecords } from '../../web/flow-records.ts';
import { bankProblemOf, pendingBank, sendToBank, showBankProblem } from '../../federation/round-trip.ts';
import { bankLabel } from '../../federation/linking.ts';
import { recoveredPasswordRoutes } from './recovered-password.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  | 'accounts'
  | 'audit'
  | 'bank'
  | 'config'
  | 'csrf'
  | 'esignature'
  | 'levels'
  | 'limits'
  | 'logger'
  | 'notices'
  | 'notifier'
  | 'provider'
  | 'store'
  | 'views'
>;

/** The CSRF binding of the recovery page's bank buttons. */
export const RECOVER_BANK_BINDING = 'recover-bank';
const BINDING = RECOVER_BANK_BINDING;

interface BankRecovery {
  accountId: string;
  bankId: string;
}

/** A bank response that matched an account, waiting for the new password (single use). */
export const bankRecoveries = new FlowRecords<BankRecovery>('recover-bank', 900);

/**
 * The active account the bank's identity belongs to by the confirmation's rules, or undefined:
 * the linked subject, or (an accredited bank's confirmable data) a verified SNILS / passport with
 * the same name and birth date, without a conflicting SNILS or birth date.
 */
export async function accountKnownToBank(services: Deps, identity: BankIdentity): Promise<Account | undefined> {
  const linked = await services.accounts.findByKey({ kind: `fed:${identity.bank.id}`, value: identity.subject });
  if (linked) return linked;
  if (!earnedVerification(identity)) return undefined;
  const match = await findByProfile(services.accounts, identity.profile);
  if (!match || conflicts(match, identity.profile) || matchedOnlyByTypedNumbers(match, identity.profile)) return undefined;
  return match;
}

export function recoveryBankRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/recover' });
  const { views, csrf } = services;
  const records = () => bankRecoveries.in(services.store);
  const failure = (ctx: Context, details: Record<string, unknown>) =>
    services.audit.record({ type: 'account.password_recover', ip: ctx.ip, outcome: 'failure', details: { via: 'bank', ...details } });
  const back = (ctx: Context) => ({ href: '/recover#recover-ways', label: views.t(ctx, 'recover.ways.back') });

  router.post('/bank/:bank', async (ctx) => {
    csrf.verify(ctx, BINDING);
    const bank = services.bank.find(ctx.params.bank!);
    if (!bank) throw new UserError(404, 'bank.errors.unknown_bank');
    try {
      await sendToBank(services, ctx, bank.id, { mode: 'recovery', uid: BINDING });
    } catch (err) {
      const problem = bankProblemOf(err);
      await failure(ctx, { bank: bank.id, reason: problem });
      showBankProblem(services, ctx, problem, back(ctx), bankLabel(services, ctx, bank));
    }
  });

  router.get('/bank-return', async (ctx) => {
    const pending = await pendingBank(services, ctx, true);
    if (!pending || pending.mode !== 'recovery') {
      // Logged, not audited: anyone can send these, and an audit row each would grow the store.
      services.logger.warn({ ip: ctx.ip, event: 'recover.bank-return', reason: 'state' }, 'bank recovery return without its round trip');
      return showBankProblem(services, ctx, 'state', back(ctx));
    }
    const bank = services.bank.find(pending.bankId);
    let identity: BankIdentity;
    try {
      identity = await services.bank.finish(pending, ctx.querystring);
    } catch (err) {
      const problem = bankProblemOf(err);
      await failure(ctx, { bank: pending.bankId, reason: problem, detail: (err as { detail?: string }).detail });
      return showBankProblem(services, ctx, problem, back(ctx), bank && bankLabel(services, ctx, bank));
    }
    const account = await accountKnownToBank(services, identity);
    if (!account) {
      await failure(ctx, { bank: identity.bank.id, reason: 'no_account' });
      // The same words whether no account exists or one exists unproven: the page tells nothing the bank did not.
      return showBankProblem(services, ctx, 'bank_no_account', back(ctx), bankLabel(services, ctx, identity.bank), 'recover.ways');
    }
    const id = randomBytes(16).toString('base64url');
    await records().save(id, { accountId: account.id, bankId: identity.bank.id });
    ctx.status = 303;
    ctx.redirect(`/recover/bank/password/${id}`);
  });

  // The new password: the bank proved one factor (fed), so the cabinet's sign-in asks a second factor the account has.
  recoveredPasswordRoutes(services, router, {
    path: '/bank/password/:id',
    action: (id) => `/recover/bank/password/${id}`,
    records: bankRecoveries,
    via: (record) => ({ via: 'bank', bank: record.bankId }),
    amr: () => [FED_AMR],
  });

  return router;
}
