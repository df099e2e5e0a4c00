/**
 * An e-signature whose SNILS is typed into an account but not proven to be its holder's
 * (/interaction/:uid/esign-link). Anyone can type someone else's SNILS into their own account and
 * wait for its holder to sign in with their certificate — so the certificate alone does not sign
 * in here: the account's password is asked first, then its second factor when the account has
 * sign-in with confirmation on. Wrong passwords count towards the account's lockout. Once the
 * password is right the certificate confirms the account (names matching), and from then on
 * signs in to it on its own. An account without a password is confirmed in the cabinet instead.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { confirmedContacts, maskContact } from '../../accounts/contacts.ts';
import { LinkError } from '../../accounts/linked-identities.ts';
import { verifyPassword } from '../../accounts/password-hash.ts';
import { combineAmr } from '../../oidc/acr.ts';
import type { Account } from '../../accounts/account.ts';
import { UserError } from '../../web/errors.ts';
import { showBankProblem } from '../../federation/round-trip.ts';
import {
  confirmByCertificate,
  pendingEsignLinks,
  signInWithNewAccount,
  type Deps as EsignSignInDeps,
  type PendingEsignLink,
} from './esign-sign-in.ts';
import { finishFederatedSignIn } from './federated-sign-in.ts';
import { backToSignIn, loadInteraction, type InteractionDetails } from '../interaction/context.ts';
import { parseForm, text } from '../../web/form.ts';
import { decide } from '../sign-in/advance.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = EsignSignInDeps;

async function loadPendingLink(
  services: Deps,
  ctx: Context,
): Promise<{ details: InteractionDetails; pending: PendingEsignLink; account: Account }> {
  const details = await loadInteraction(services.provider, ctx);
  const pending = await pendingEsignLinks.in(services.store).load(details.uid);
  const account = pending && (await services.accounts.findActive(pending.accountId));
  // The account must still hold the certificate's SNILS.
  if (!pending || !account || account.snils !== pending.identity.snils || details.prompt.name !== 'login')
    throw new UserError(400, 'errors.interaction_expired');
  return { details, pending, account };
}

function showLinkPage(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  account: Account,
  form: { error?: string; status?: number } = {},
): void {
  const contact = confirmedContacts(account)[0];
  services.views.render(
    ctx,
    'esign-link',
    {
      title: 'esign.link_title',
      uid: details.uid,
      csrf: ctx.state.csrf(details.uid),
      person: `${account.name.family} ${account.name.given.slice(0, 1)}.`,
      contact: contact ? maskContact(contact) : undefined,
      canPassword: Boolean(account.passwordHash),
      error: form.error,
    },
    form.status ?? 200,
  );
}

export function esignLinkRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/esign-link' });
  const { csrf, views, limits } = services;

  router.get('/', async (ctx) => {
    const { details, account } = await loadPendingLink(services, ctx);
    showLinkPage(services, ctx, details, account);
  });

  /**
   * "Not my account": the certificate proves whose SNILS it is, so a new account is made from it and
   * the SNILS is taken from the account that only typed it in (its owner is told).
   */
  router.post('/new', async (ctx) => {
    const { details, pending } = await loadPendingLink(services, ctx);
    csrf.verify(ctx, details.uid);
    if (!(await pendingEsignLinks.in(services.store).consume(details.uid))) throw new UserError(400, 'errors.interaction_expired');
    await signInWithNewAccount(services, ctx, details, pending.identity, pending.amr);
  });

  router.post('/', async (ctx) => {
    const { details, pending, account } = await loadPendingLink(services, ctx);
    csrf.verify(ctx, details.uid);
    if (!account.passwordHash) throw new UserError(400, 'errors.bad_request');
    const body = parseForm(ctx, { password: text() });
    const password = typeof body.password === 'string' ? body.password.slice(0, 256) : '';
    const passwordHash = account.passwordHash;
    let tried = false;
    const attempt = await limits.accountAttempt(account.id, ctx.ip, async () => {
      tried = true;
      return Boolean(password) && verifyPassword(passwordHash, password);
    });
    if (!attempt.ok) {
      if (tried)
        await services.audit.record({
          type: 'esign.link',
          accountId: account.id,
          ip: ctx.ip,
          outcome: 'failure',
          details: { method: 'password', reason: 'invalid' },
        });
      const error = attempt.locked
        ? views.t(ctx, 'login.locked', { minutes: Math.ceil(attempt.retryAfter / 60) })
        : views.t(ctx, 'esign.link_wrong_password');
      return showLinkPage(services, ctx, details, account, { error, status: attempt.locked ? 429 : 400 });
    }

    if (!(await pendingEsignLinks.in(services.store).consume(details.uid))) throw new UserError(400, 'errors.interaction_expired');
    const amr = combineAmr(pending.amr, ['pwd']);
    try {
      // The password proves the account; a second factor the citizen asked for is still due. Only a
      // sign-in without one left remembers the certificate (and lets it vouch for the SNILS): from
      // then on it signs in on its own, so it must not get there by password and certificate alone
      // past the second factor. Otherwise the citizen confirms it in the cabinet once signed in.
      const step = decide(services.config, details, account, amr, { ownSecondFactorAlways: true }).step;
      const secondStepDue = step === 'second_factor' || step === 'enrol';
      const current = secondStepDue ? account : await confirmByCertificate(services, account, pending.identity, ctx.ip);
      await finishFederatedSignIn(services, ctx, details, current, amr, 'esignature+password', { ownSecondFactorAlways: true });
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      await services.audit.record({
        type: 'esign.signin',
        accountId: account.id,
        ip: ctx.ip,
        outcome: 'failure',
        clientId: String(details.params.client_id),
        details: { reason: err.code },
      });
      showBankProblem(services, ctx, err.code, backToSignIn(views, ctx, details.uid), undefined, 'esign.errors');
    }
  });

  return router;
}
