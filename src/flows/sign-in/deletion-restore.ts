/**
 * Signing in to an account deleted but still in its grace: the right password does not sign in —
 * for an account its owner deleted it offers to restore the account (one an operator deleted only an
 * operator restores: the page says so) (`/interaction/:uid/restore`). Restoring cancels the deletion
 * and continues the sign-in as after the password (second factor, enrolment, consent). Leaving
 * the page keeps the deletion.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import type { Account } from '../../accounts/account.ts';
import { confirmedContacts } from '../../accounts/contacts.ts';
import { UserError } from '../../web/errors.ts';
import { FlowRecords } from '../../web/flow-records.ts';
import { waitUntil } from '../../web/wait-until.ts';
import { loadInteraction, type InteractionDetails } from '../interaction/context.ts';
import { advance } from './advance.ts';
import type { SignIn } from './sign-in-result.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  | 'accountDeletion'
  | 'accounts'
  | 'audit'
  | 'bank'
  | 'config'
  | 'csrf'
  | 'esignature'
  | 'limits'
  | 'notifier'
  | 'provider'
  | 'store'
  | 'views'
>;

interface RestoreRecord {
  accountId: string;
  remember: boolean;
  /** how the citizen proved it (a bank, an e-signature); absent: a password */
  amr?: string[];
  method?: string;
}

/** A right password for a deleted account, waiting for "restore" (single use). */
export const pendingRestores = new FlowRecords<RestoreRecord>('restore', 600);

/** The password was right but the account is deactivated: offer to restore it. */
export async function offerRestore(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  account: Account,
  remember: boolean,
  /** a sign-in proved by a bank or an e-signature, not a password */
  proof?: { amr: string[]; method: string },
): Promise<void> {
  // Deleted by an operator (a written request, a court order): not the citizen's to undo here.
  const byOwner = account.deletion?.actor === 'self';
  const record: RestoreRecord = { accountId: account.id, remember, ...(proof ? { amr: proof.amr, method: proof.method } : {}) };
  if (byOwner) await pendingRestores.in(services.store).save(details.uid, record);
  await services.audit.record({
    type: 'signin.password',
    accountId: account.id,
    outcome: 'failure',
    ip: ctx.ip,
    clientId: String(details.params.client_id),
    details: { reason: 'deactivated' },
  });
  services.views.render(
    ctx,
    'account-restore',
    {
      title: 'deletion.restore_title',
      uid: details.uid,
      csrf: ctx.state.csrf(details.uid),
      date: services.views.date(ctx, account.deletion!.eraseAfter),
      byOwner,
    },
    403,
  );
}

export function restoreRoutes(services: Deps): Router {
  const router = new Router();

  router.post('/restore', async (ctx) => {
    const details = await loadInteraction(services.provider, ctx);
    services.csrf.verify(ctx, details.uid);
    if (details.prompt.name !== 'login') throw new UserError(400, 'errors.interaction_step');
    const restores = pendingRestores.in(services.store);
    const record = await restores.take(details.uid);
    if (!record?.accountId) {
      // "Restore" sent twice (a double click): the request that took the offer restores the account
      // and signs in; this one follows it — to the relying party once the sign-in is saved, else
      // to the sign-in page (the account is active again) — instead of "the offer has expired".
      const taken = await restores.inspect(details.uid);
      if (!taken?.used || !(await waitUntil(async () => Boolean(await services.accounts.findActive(taken.record.accountId)))))
        throw new UserError(400, 'deletion.restore_expired');
      // (the first request tells every contact before it signs in: a few seconds at most)
      const signedIn = await waitUntil(async () => Boolean((await services.provider.Interaction.find(details.uid))?.result), 5000);
      ctx.status = 303;
      ctx.redirect(signedIn ? details.returnTo : `/interaction/${details.uid}`);
      return;
    }
    const account = await services.accountDeletion.cancel(record.accountId, { actor: 'self', ip: ctx.ip });
    if (!account) throw new UserError(410, 'deletion.restore_gone');
    // Told on every confirmed contact: a restore by someone who has only the password is seen.
    const message = {
      subject: services.views.t(ctx, 'messages.deletion_cancelled.subject'),
      text: services.views.t(ctx, 'messages.deletion_cancelled.text'),
    };
    for (const contact of confirmedContacts(account)) await services.notifier.send(contact, message).catch(() => undefined);
    // As after a right password (flows/sign-in/login.ts): the second factor is still asked for.
    const signIn: SignIn = { account, amr: record.amr ?? ['pwd'], remember: record.remember, method: record.method ?? 'password' };
    await advance(services, ctx, details, signIn, { forgetFailures: true });
  });

  return router;
}
