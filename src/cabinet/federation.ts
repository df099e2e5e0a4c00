/**
 * Banks and e-signature in the cabinet (/account/federation): link a bank (and, for an accredited
 * bank, confirm the account with its data), unlink it, confirm the account with a qualified
 * e-signature. Changes need a sign-in within the last 5 minutes, are audited and told to the
 * citizen.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { formatDate } from '../accounts/dates.ts';
import { conflicts, sameName } from '../accounts/external-identity.ts';
import { certificatesOf, LinkError, withCertificate, withFederation } from '../accounts/linked-identities.ts';
import { earnedVerification, type BankIdentity } from '../methods/bank.ts';
import type { Services } from '../services.ts';
import type { Account } from '../store.ts';
import { UserError } from '../web/errors.ts';
import { bankProblemOf, pendingBank, sendToBank, showBankProblem } from '../federation/round-trip.ts';
import {
  certificateOf,
  esignError,
  esignVerification,
  sendChallenge,
  showEsignPage,
  signatureUpload,
  submittedSignature,
  type EsignPage,
} from '../federation/esign-page.ts';
import { bankLabel, linkedIdentities, notifyCitizen, showUnconfirmed } from '../federation/linking.ts';
import { cabinetSession, isFresh, type CabinetSession, requireCabinetSession, cabinetBinding } from './session.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accounts' | 'audit' | 'bank' | 'config' | 'csrf' | 'esignature' | 'levels' | 'limits' | 'notices' | 'provider' | 'store' | 'views'
>;

export function federationCabinetRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/federation' });
  const { views } = services;
  const binding = cabinetBinding;
  const back = (ctx: Context) => ({ href: '/account/federation', label: views.t(ctx, 'federation.back') });

  const session = (ctx: Context, fresh: boolean) => requireCabinetSession(services, ctx, fresh);

  function done(ctx: Context, notice: string) {
    ctx.status = 303;
    ctx.redirect(`/account/federation?notice=${notice}`);
  }

  router.get('/', async (ctx) => {
    const s = await session(ctx, false);
    if (!s) return;
    const a = s.account;
    const notice = views.notice(ctx, 'federation');
    views.render(ctx, 'federation', {
      title: 'federation.title',
      csrf: ctx.state.csrf(binding(s)),
      fresh: isFresh(s),
      notice,
      banks: services.bank.list().map((b) => {
        const link = a.federations?.find((f) => f.provider === b.id);
        return {
          id: b.id,
          label: bankLabel(services, ctx, b),
          accredited: b.accredited,
          linkedAt: link ? formatDate(link.linkedAt.slice(0, 10)) : undefined,
        };
      }),
      esign: services.esignature.enabled,
      certificates: certificatesOf(a).map((c) => ({ ...c, notAfter: formatDate(c.notAfter.slice(0, 10)) })),
    });
  });

  router.post('/banks/:id/link', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const bank = services.bank.find(ctx.params.id!);
    if (!bank) throw new UserError(404, 'bank.errors.unknown_bank');
    try {
      await sendToBank(services, ctx, bank.id, { mode: 'cabinet', uid: s.uid });
    } catch (err) {
      showBankProblem(services, ctx, bankProblemOf(err), back(ctx), bankLabel(services, ctx, bank));
    }
  });

  router.get('/bank-return', async (ctx) => {
    const s = await cabinetSession(services, ctx);
    if (!s) throw new UserError(401, 'cabinet.signed_out');
    const pending = await pendingBank(services, ctx, true);
    if (!pending || pending.mode !== 'cabinet' || pending.uid !== s.uid) return showBankProblem(services, ctx, 'state', back(ctx));
    const bank = services.bank.find(pending.bankId);
    let identity: BankIdentity;
    try {
      identity = await services.bank.finish(pending, ctx.querystring);
    } catch (err) {
      await services.audit.record({
        type: 'federation.link',
        accountId: s.account.id,
        ip: ctx.ip,
        outcome: 'failure',
        details: { bank: pending.bankId, reason: bankProblemOf(err) },
      });
      return showBankProblem(services, ctx, bankProblemOf(err), back(ctx), bank && bankLabel(services, ctx, bank));
    }
    const label = bankLabel(services, ctx, identity.bank);
    try {
      const holder = await services.accounts.findByKey({ kind: `fed:${identity.bank.id}`, value: identity.subject });
      if (holder && holder.id !== s.account.id) throw new LinkError('linked_elsewhere');
      if (conflicts(s.account, identity.profile)) throw new LinkError('conflict');
      if (identity.profile.name && !sameName(s.account.name, identity.profile.name)) {
        await services.audit.record({
          type: 'federation.link',
          accountId: s.account.id,
          ip: ctx.ip,
          outcome: 'failure',
          details: { bank: identity.bank.id, reason: 'name_mismatch' },
        });
        return showBankProblem(services, ctx, 'name_mismatch', back(ctx), label);
      }
      const linked = linkedIdentities(services);
      const link = { provider: identity.bank.id, subject: identity.subject };
      const verification = earnedVerification(identity);
      // Linked and confirmed in one write: a confirmation that fails leaves no link behind (it did:
      // the page said the link failed while the bank was linked and signed in).
      let account: Account;
      if (verification) {
        account = await linked.confirm(s.account, identity.profile, verification, ctx.ip, (a) => withFederation(a, link));
        if (!s.account.federations?.some((f) => f.provider === link.provider))
          await services.audit.record({
            type: 'federation.linked',
            accountId: s.account.id,
            actor: 'self',
            ip: ctx.ip,
            outcome: 'success',
            details: { provider: link.provider },
          });
      } else account = await linked.link(s.account.id, link, ctx.ip);
      await notifyCitizen(services, account, 'federation.messages.linked', { bank: identity.bank.name });
      // Linked, but the bank could not vouch for everything the level needs: say which items.
      if (verification && account.level !== 'confirmed')
        return showUnconfirmed(services, ctx, account, views.t(ctx, 'federation.unconfirmed.source.bank', { bank: label }), back(ctx));
      done(ctx, 'bank_linked');
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      await services.audit.record({
        type: 'federation.link',
        accountId: s.account.id,
        ip: ctx.ip,
        outcome: 'failure',
        details: { bank: identity.bank.id, reason: err.code },
      });
      showBankProblem(services, ctx, err.code, back(ctx), label);
    }
  });

  router.post('/banks/:id/unlink', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const bank = services.bank.find(ctx.params.id!);
    try {
      const account = await linkedIdentities(services).unlink(s.account.id, ctx.params.id!, ctx.ip);
      await notifyCitizen(services, account, 'federation.messages.unlinked', { bank: bank?.name ?? ctx.params.id });
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      throw new UserError(err.code === 'last_way_in' ? 409 : 404, `federation.errors.${err.code}`);
    }
    done(ctx, 'bank_unlinked');
  });

  const esignPage = (s: CabinetSession, ctx: Context, form: { error?: string; status?: number } = {}): EsignPage => ({
    binding: binding(s),
    csrfBinding: binding(s),
    action: '/account/federation/esign',
    download: (handle) => `/account/federation/esign/challenge/${handle}`,
    back: back(ctx),
    confirm: true,
    ...form,
  });

  router.get('/esign', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    if (!services.esignature.enabled) throw new UserError(404, 'esign.errors.not_configured');
    await showEsignPage(services, ctx, esignPage(s, ctx));
  });

  router.get('/esign/challenge/:handle', async (ctx) => {
    const s = await session(ctx, false);
    if (!s) return;
    await sendChallenge(services, ctx, ctx.params.handle!, binding(s));
  });

  router.post('/esign', signatureUpload(), async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const result = await submittedSignature(services, ctx, binding(s), s.account.id);
    if (!result.ok) return showEsignPage(services, ctx, esignPage(s, ctx, esignError(services, ctx, result)));
    const identity = result.identity;
    const a = s.account;
    let problem: string | undefined;
    if (a.snils && a.snils !== identity.snils) problem = 'other_person';
    else if (!identity.name || !sameName(a.name, identity.name)) problem = 'name_mismatch';
    else {
      const holder = await services.accounts.findByKey({ kind: 'snils', value: identity.snils });
      if (holder && holder.id !== a.id) problem = 'snils_taken';
    }
    if (problem) {
      await services.audit.record({ type: 'esign.link', accountId: a.id, ip: ctx.ip, outcome: 'failure', details: { reason: problem } });
      return showEsignPage(services, ctx, esignPage(s, ctx, { error: views.t(ctx, `esign.errors.${problem}`), status: 409 }));
    }
    try {
      const account = await linkedIdentities(services).confirm(
        a,
        { snils: identity.snils, ...(identity.inn ? { inn: identity.inn } : {}) },
        esignVerification(identity),
        ctx.ip,
        (x) => withCertificate(x, certificateOf(identity)),
      );
      await notifyCitizen(services, account, 'federation.messages.esign_linked');
      // A certificate carries no passport or birth date: those must be checked by the registry.
      if (account.level !== 'confirmed')
        return showUnconfirmed(services, ctx, account, views.t(ctx, 'federation.unconfirmed.source.esignature'), back(ctx));
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      return showEsignPage(services, ctx, esignPage(s, ctx, { error: views.t(ctx, 'esign.errors.snils_taken'), status: 409 }));
    }
    done(ctx, 'esign_linked');
  });

  return router;
}
