/**
 * Linking a bank to an existing account during sign-in (/interaction/:uid/bank-link): the bank's
 * data matched an account (SNILS, or passport + name + birth date), but nobody has yet shown that
 * the person at the bank holds that account. They confirm with the account's password, its
 * authenticator app or an SMS code; wrong answers count towards the account's lockout.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { confirmedContacts, maskContact } from '../../accounts/contacts.ts';
import { conflicts, sameName, type ExternalProfile } from '../../accounts/external-identity.ts';
import { LinkError, withFederation } from '../../accounts/linked-identities.ts';
import { verifyPassword } from '../../accounts/password-hash.ts';
import { earnedVerification, FED_AMR, type BankIdentity } from '../../methods/bank.ts';
import type { SecondFactorResult } from '../../methods/second-factor.ts';
import { isMultiFactor } from '../../oidc/acr.ts';
import type { Services } from '../../services.ts';
import type { Account } from '../../accounts/account.ts';
import { UserError } from '../../web/errors.ts';
import { FlowRecords } from '../../web/flow-records.ts';
import { showBankProblem } from '../../federation/round-trip.ts';
import { finishFederatedSignIn } from './federated-sign-in.ts';
import { bankLabel, linkedIdentities, notifyCitizen } from '../../federation/linking.ts';
import { backToSignIn, loadInteraction, type InteractionDetails } from '../interaction/context.ts';
import { parseForm, text } from '../../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  | 'accounts'
  | 'audit'
  | 'bank'
  | 'config'
  | 'csrf'
  | 'esignature'
  | 'factors'
  | 'levels'
  | 'limits'
  | 'notices'
  | 'provider'
  | 'store'
  | 'views'
>;

/**
 * No account is the bank customer's: a new one from the bank's data (its verified data confirms
 * it), the customer told on the bank's contacts, and the sign-in finished with it.
 */
export async function signInNewBankCustomer(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  identity: Pick<BankIdentity, 'bank' | 'subject' | 'profile' | 'claimNames'>,
): Promise<void> {
  const { bank } = identity;
  const method = `bank:${bank.id}`;
  const account = await linkedIdentities(services).create({
    profile: identity.profile,
    via: method,
    link: { provider: bank.id, subject: identity.subject },
    verification: earnedVerification(identity),
    ip: ctx.ip,
    clientId: String(details.params.client_id),
  });
  await notifyCitizen(services, account, 'federation.messages.created_by_bank', { bank: bank.name });
  await finishFederatedSignIn(services, ctx, details, account, [FED_AMR], method);
}

export interface PendingLink {
  accountId: string;
  identity: { bankId: string; subject: string; profile: ExternalProfile; claimNames: string[] };
  /** an SMS code sent for this confirmation */
  challengeId?: string;
  /** the account matched only by numbers typed into it: the person may say it is not theirs */
  mayDecline?: boolean;
}

/** Keyed by the interaction uid. */
const pendingLinks = new FlowRecords<PendingLink>('fedlink', 900);

export async function savePendingLink(services: Deps, uid: string, pending: PendingLink): Promise<void> {
  await pendingLinks.in(services.store).save(uid, pending);
}

async function loadPendingLink(
  services: Deps,
  ctx: Context,
): Promise<{ details: InteractionDetails; pending: PendingLink; account: Account }> {
  const details = await loadInteraction(services.provider, ctx);
  const pending = await pendingLinks.in(services.store).load(details.uid);
  const account = pending && (await services.accounts.findActive(pending.accountId));
  if (!pending || !account || details.prompt.name !== 'login') throw new UserError(400, 'errors.interaction_expired');
  return { details, pending, account };
}

function showLinkPage(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  pending: PendingLink,
  account: Account,
  form: { error?: string; status?: number } = {},
): void {
  const { views } = services;
  const bank = services.bank.find(pending.identity.bankId);
  const contact = confirmedContacts(account)[0];
  const canPassword = Boolean(account.passwordHash);
  const canTotp = Boolean(account.totp);
  const canSms = Boolean(account.phone && account.phoneVerified);
  views.render(
    ctx,
    'bank-link',
    {
      title: 'bank.link_title',
      uid: details.uid,
      csrf: ctx.state.csrf(details.uid),
      bank: bank ? bankLabel(services, ctx, bank) : pending.identity.bankId,
      person: `${account.name.family} ${account.name.given.slice(0, 1)}.`,
      contact: contact ? maskContact(contact) : undefined,
      canPassword,
      canTotp,
      canSms,
      smsSent: Boolean(pending.challengeId),
      phone: canSms ? maskContact({ kind: 'phone', value: account.phone! }) : undefined,
      noWay: !canPassword && !canTotp && !canSms,
      mayDecline: Boolean(pending.mayDecline),
      error: form.error,
    },
    form.status ?? 200,
  );
}

export function bankLinkRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/bank-link' });
  const { csrf, views, limits } = services;

  router.get('/', async (ctx) => {
    const { details, pending, account } = await loadPendingLink(services, ctx);
    showLinkPage(services, ctx, details, pending, account);
  });

  router.post('/sms', async (ctx) => {
    const { details, pending, account } = await loadPendingLink(services, ctx);
    csrf.verify(ctx, details.uid);
    const sent = await services.factors.get('sms')!.challenge!(account, ctx.ip, {
      subject: views.t(ctx, 'messages.mfa.subject'),
      text: (code) => views.t(ctx, 'messages.mfa.code', { code }),
    }).catch(() => undefined);
    if (!sent) return showLinkPage(services, ctx, details, pending, account, { error: views.t(ctx, 'code.delivery_failed'), status: 503 });
    if (!sent.challengeId)
      return showLinkPage(services, ctx, details, pending, account, {
        error: views.t(ctx, 'code.send_limited', { minutes: Math.ceil((sent.retryAfter ?? 60) / 60) }),
        status: 429,
      });
    await savePendingLink(services, details.uid, { ...pending, challengeId: sent.challengeId });
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}/bank-link`);
  });

  /**
   * "Not my account": the account matched only by numbers typed into it. The bank vouches for its
   * customer, so a new account is made from its data, and the numbers it vouched for are taken
   * from the account that only typed them in (its owner is told).
   */
  router.post('/new', async (ctx) => {
    const { details, pending } = await loadPendingLink(services, ctx);
    csrf.verify(ctx, details.uid);
    if (!pending.mayDecline) throw new UserError(400, 'errors.bad_request');
    const bank = services.bank.find(pending.identity.bankId);
    if (!bank) throw new UserError(400, 'errors.interaction_expired');
    if (!(await pendingLinks.in(services.store).consume(details.uid))) throw new UserError(400, 'errors.interaction_expired');
    const identity = { ...pending.identity, bank };
    try {
      await signInNewBankCustomer(services, ctx, details, identity);
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      showBankProblem(services, ctx, err.code, backToSignIn(views, ctx, details.uid), bankLabel(services, ctx, bank));
    }
  });

  router.post('/', async (ctx) => {
    const { details, pending, account } = await loadPendingLink(services, ctx);
    csrf.verify(ctx, details.uid);
    const body = parseForm(ctx, { secret: text(), method: text() });
    const secret = typeof body.secret === 'string' ? body.secret.slice(0, 256) : '';
    const prove = async (): Promise<SecondFactorResult> => {
      if (!secret) return { ok: false, reason: 'invalid' };
      if (body.method === 'password' && account.passwordHash)
        return (await verifyPassword(account.passwordHash, secret))
          ? { ok: true, amr: ['pwd'], method: 'password' }
          : { ok: false, reason: 'invalid' };
      // The account's own factors prove it too: its app, or a code sent to its mobile for this link.
      const factor = services.factors.get(body.method);
      if (factor?.kind === 'totp' && factor.available(account)) return factor.verify(account, { code: secret, ip: ctx.ip });
      if (factor?.kind === 'sms' && pending.challengeId)
        return factor.verify(account, { code: secret, challengeId: pending.challengeId, ip: ctx.ip });
      throw new UserError(400, 'errors.bad_request');
    };
    const tried: { proof?: SecondFactorResult } = {};
    const attempt = await limits.accountAttempt(account.id, ctx.ip, async () => (tried.proof = await prove()).ok);
    if (!attempt.ok || !tried.proof?.ok) {
      const reason = tried.proof && !tried.proof.ok ? tried.proof.reason : 'invalid';
      if (tried.proof)
        await services.audit.record({
          type: 'federation.link',
          accountId: account.id,
          ip: ctx.ip,
          outcome: 'failure',
          details: { bank: pending.identity.bankId, method: body.method, reason },
        });
      const locked = !attempt.ok && attempt.locked;
      const error = locked
        ? views.t(ctx, 'login.locked', { minutes: Math.ceil((attempt as { retryAfter: number }).retryAfter / 60) })
        : views.t(ctx, body.method === 'password' ? 'bank.link_wrong_password' : `mfa.errors.${reason}`);
      return showLinkPage(services, ctx, details, pending, account, { error, status: locked ? 429 : 400 });
    }
    const proof = tried.proof;

    if (!(await pendingLinks.in(services.store).consume(details.uid))) throw new UserError(400, 'errors.interaction_expired');
    const bank = services.bank.find(pending.identity.bankId);
    if (!bank) throw new UserError(400, 'errors.interaction_expired');
    const identity = { ...pending.identity, bank };
    const linked = linkedIdentities(services);
    try {
      const link = { provider: bank.id, subject: identity.subject };
      const verification = earnedVerification(identity);
      // Linked and confirmed in one write: a confirmation that fails leaves no link behind.
      let current: Account;
      // A bank whose person has another name does not confirm (and so does not rename) the account:
      // linked for signing in, as the cabinet would refuse to confirm it (docs/federation.md).
      const sameHolder = !identity.profile.name || sameName(account.name, identity.profile.name);
      if (verification && sameHolder && !conflicts(account, identity.profile)) {
        current = await linked.confirm(account, identity.profile, verification, ctx.ip, (a) => withFederation(a, link));
        if (!account.federations?.some((f) => f.provider === link.provider))
          await services.audit.record({
            type: 'federation.linked',
            accountId: account.id,
            actor: 'self',
            ip: ctx.ip,
            outcome: 'success',
            details: { provider: link.provider },
          });
      } else current = await linked.link(account.id, link, ctx.ip);
      await notifyCitizen(services, current, 'federation.messages.linked', { bank: bank.name });
      const amr = [FED_AMR, ...proof.amr.filter((m) => m !== 'mfa')];
      await finishFederatedSignIn(
        services,
        ctx,
        details,
        current,
        isMultiFactor(amr) ? [...amr, 'mfa'] : amr,
        `bank:${bank.id}+${proof.method}`,
      );
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      showBankProblem(services, ctx, err.code, backToSignIn(views, ctx, details.uid), bankLabel(services, ctx, bank));
    }
  });

  return router;
}
