/**
 * Sign-in through a bank inside an interaction:
 *
 *   POST /interaction/:uid/bank/:id     → the bank (state, nonce, PKCE)
 *   GET  /federation/callback           → (federation-callback.ts) back to the interaction
 *   GET  /interaction/:uid/bank-return  → check the response, then:
 *     - the bank profile is linked to an account            → sign in
 *     - it is not, but its data matches an account          → confirm with the account's password
 *                                                               or a code first (bank-link.ts)
 *     - no account matches                                  → a new account from the bank's data
 *   An accredited bank's verified data confirms the account (level `confirmed`). amr `fed`.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { conflicts, findByProfile, matchedOnlyByTypedNumbers } from '../../accounts/external-identity.ts';
import { LinkError } from '../../accounts/linked-identities.ts';
import { earnedVerification, FED_AMR, type BankIdentity } from '../../methods/bank.ts';
import type { Services } from '../../services.ts';
import { UserError } from '../../web/errors.ts';
import { bankProblemOf, pendingBank, sendToBank, showBankProblem } from '../../federation/round-trip.ts';
import { savePendingLink, signInNewBankCustomer } from './bank-link.ts';
import { finishFederatedSignIn } from './federated-sign-in.ts';
import { bankLabel, linkedIdentities } from '../../federation/linking.ts';
import { backToSignIn, loadInteraction, type InteractionDetails } from '../interaction/context.ts';
import { offerRestore, type Deps as RestoreDeps } from '../sign-in/deletion-restore.ts';

/** What this module uses of the services (the composition root's bundle). */
/** What the restore offer needs (deletion-restore.ts), and this flow's own. */
export type Deps = RestoreDeps & Pick<Services, 'factors' | 'levels' | 'notices'>;

/** What follows a checked bank response inside an interaction. */
async function afterBank(services: Deps, ctx: Context, details: InteractionDetails, identity: BankIdentity): Promise<void> {
  const { bank, subject, profile } = identity;
  const linked = linkedIdentities(services);
  const verification = earnedVerification(identity);
  const method = `bank:${bank.id}`;
  try {
    // An account deleted but still kept (its grace): the bank is its way in, so the sign-in offers
    // the restore (or says an operator restores it), as a password sign-in does.
    const held = await services.accounts.findByKeyOrPendingDeletion({ kind: `fed:${bank.id}`, value: subject });
    if (held?.status === 'deactivated') return await offerRestore(services, ctx, details, held, true, { amr: [FED_AMR], method });
    let account = await services.accounts.findByKey({ kind: `fed:${bank.id}`, value: subject });
    if (account) {
      if (verification && !conflicts(account, profile)) {
        // Fresh data that cannot be stored (e.g. a passport another account holds) leaves the
        // level as it was; the sign-in itself is still good.
        account = await linked.confirm(account, profile, verification, ctx.ip).catch(async (err: unknown) => {
          if (!(err instanceof LinkError)) throw err;
          await services.audit.record({
            type: 'federation.confirm',
            accountId: account!.id,
            ip: ctx.ip,
            outcome: 'failure',
            details: { bank: bank.id, reason: err.code },
          });
          return account!;
        });
      }
      return await finishFederatedSignIn(services, ctx, details, account, [FED_AMR], method);
    }
    const match = await findByProfile(services.accounts, profile);
    if (match) {
      // A different SNILS or birth date on an account matched only by what was typed into it is no
      // reason to refuse the bank's customer: the account is simply not theirs.
      if (conflicts(match, profile) && !(verification && matchedOnlyByTypedNumbers(match, profile))) throw new LinkError('conflict');
      if (conflicts(match, profile)) return await signInNewBankCustomer(services, ctx, details, identity);
      if (match.federations?.some((f) => f.provider === bank.id)) throw new LinkError('already_linked');
      // Matched only by numbers typed into that account: it may be a squatter's, and the person may say so.
      const mayDecline = Boolean(verification) && matchedOnlyByTypedNumbers(match, profile);
      await savePendingLink(services, details.uid, {
        accountId: match.id,
        identity: { bankId: bank.id, subject, profile, claimNames: identity.claimNames },
        mayDecline,
      });
      ctx.status = 303;
      return ctx.redirect(`/interaction/${details.uid}/bank-link`);
    }
    await signInNewBankCustomer(services, ctx, details, identity);
  } catch (err) {
    if (!(err instanceof LinkError)) throw err;
    await services.audit.record({
      type: 'federation.signin',
      ip: ctx.ip,
      outcome: 'failure',
      clientId: String(details.params.client_id),
      details: { bank: bank.id, reason: err.code },
    });
    showBankProblem(services, ctx, err.code, backToSignIn(services.views, ctx, details.uid), bankLabel(services, ctx, bank));
  }
}

export function bankSignInRoutes(services: Deps): Router {
  const router = new Router();
  const { provider, csrf } = services;

  router.post('/bank/:id', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    csrf.verify(ctx, details.uid);
    if (details.prompt.name !== 'login') throw new UserError(400, 'errors.interaction_step');
    const bank = services.bank.find(ctx.params.id!);
    if (!bank) throw new UserError(404, 'bank.errors.unknown_bank');
    try {
      await sendToBank(services, ctx, bank.id, { mode: 'interaction', uid: details.uid });
    } catch (err) {
      const problem = bankProblemOf(err);
      await services.audit.record({
        type: 'federation.signin',
        ip: ctx.ip,
        outcome: 'failure',
        clientId: String(details.params.client_id),
        details: { bank: bank.id, reason: problem },
      });
      showBankProblem(services, ctx, problem, backToSignIn(services.views, ctx, details.uid), bankLabel(services, ctx, bank));
    }
  });

  router.get('/bank-return', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    const back = backToSignIn(services.views, ctx, details.uid);
    const pending = await pendingBank(services, ctx, true);
    if (!pending || pending.mode !== 'interaction' || pending.uid !== details.uid) {
      await services.audit.record({ type: 'federation.signin', ip: ctx.ip, outcome: 'failure', details: { reason: 'state' } });
      return showBankProblem(services, ctx, 'state', back);
    }
    if (details.prompt.name !== 'login') throw new UserError(400, 'errors.interaction_step');
    const bank = services.bank.find(pending.bankId);
    let identity: BankIdentity;
    try {
      identity = await services.bank.finish(pending, ctx.querystring);
    } catch (err) {
      const problem = bankProblemOf(err);
      await services.audit.record({
        type: 'federation.signin',
        ip: ctx.ip,
        outcome: 'failure',
        clientId: String(details.params.client_id),
        details: { bank: pending.bankId, reason: problem, detail: (err as { detail?: string }).detail },
      });
      return showBankProblem(services, ctx, problem, back, bank && bankLabel(services, ctx, bank));
    }
    await afterBank(services, ctx, details, identity);
  });

  return router;
}
