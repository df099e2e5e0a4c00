/**
 * The security settings page (/account/security): sign-in with confirmation and the preferred
 * second factor, the authenticator app, passkeys (add, rename, remove), recovery codes. Every
 * change needs a sign-in within 5 minutes, is audited and is notified to the citizen.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { maskContact } from '../accounts/contacts.ts';
import type { FactorChange } from '../methods/factor-changes.ts';
import type { EnrolmentView } from '../methods/factors/factor.ts';
import { afterFactorRemoval, availableFactors, factorRemovalRefusal } from '../methods/second-factor.ts';
import { PASSKEY_NAME_MAX } from '../methods/webauthn.ts';
import type { Services } from '../services.ts';
import type { Account, SecondFactorKind } from '../accounts/account.ts';
import { UserError } from '../web/errors.ts';
import { FlowRecords } from '../web/flow-records.ts';
import { isFresh, type CabinetSession, requireCabinetSession, cabinetBinding } from './session.ts';
import { checkbox, parseForm, raw, text } from '../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accounts' | 'codes' | 'config' | 'csrf' | 'factorChanges' | 'factors' | 'provider' | 'recoveryCodes' | 'store' | 'views' | 'webauthn'
>;

/** The authenticator app's secret is sealed to the cabinet session that began it. */
const totpBinding = (s: CabinetSession) => `cabinet-totp:${s.uid}`;
/** An authenticator app being added in the cabinet: its secret, sealed; keyed by the session uid. */
const totpEnrolments = new FlowRecords<{ sealed?: string }>('cabinet-totp', 900);
const FACTORS: SecondFactorKind[] = ['totp', 'sms', 'webauthn'];

export function securityRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/security' });
  const { views } = services;
  const binding = cabinetBinding;
  const totpFlow = (s: CabinetSession) => s.uid;

  const session = (ctx: Context, fresh: boolean) => requireCabinetSession(services, ctx, fresh);

  async function change(
    ctx: Context,
    s: CabinetSession,
    kind: FactorChange,
    mutate: (a: Account) => Account,
    details?: Record<string, unknown>,
  ) {
    await services.factorChanges.apply({
      accountId: s.account.id,
      change: kind,
      mutate,
      ip: ctx.ip,
      details,
      message: { subject: views.t(ctx, 'messages.factor.subject'), text: views.t(ctx, `messages.factor.${kind}`) },
    });
  }

  /** The account without a factor, unless that was the last way to confirm a sign-in that must stay (checked as written). */
  const withoutFactor = (a: Account, removed: Account): Account => {
    const refusal = factorRemovalRefusal(a, removed, services.config.requireSecondFactor);
    if (refusal) throw new UserError(409, refusal);
    return afterFactorRemoval(removed);
  };

  function done(ctx: Context, notice: string) {
    ctx.status = 303;
    ctx.redirect(`/account/security?notice=${notice}`);
  }

  router.get('/', async (ctx) => {
    const s = await session(ctx, false);
    if (!s) return;
    const a = s.account;
    const notice = views.notice(ctx, 'security');
    views.render(ctx, 'security', {
      title: 'security.title',
      csrf: ctx.state.csrf(binding(s)),
      fresh: isFresh(s),
      notice,
      mfaEnabled: Boolean(a.mfa?.enabled),
      factors: availableFactors(a).map((f) => ({ id: f, label: views.t(ctx, `mfa.methods.${f}`), selected: a.mfa?.preferred === f })),
      hasTotp: Boolean(a.totp),
      phone: a.phone && a.phoneVerified ? maskContact({ kind: 'phone', value: a.phone }) : undefined,
      passkeys: (a.passkeys ?? []).map((p) => ({
        ...p,
        kind: views.t(ctx, `passkeys.kinds.${p.deviceType}`),
        createdAt: views.date(ctx, p.createdAt),
      })),
      recoveryLeft: a.recoveryCodes?.hashes.length ?? 0,
      hasRecovery: Boolean(a.recoveryCodes),
    });
  });

  router.post('/mfa', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const body = parseForm(ctx, { enabled: checkbox(), preferred: text() });
    const enabled = body.enabled;
    const preferred = FACTORS.find((f) => f === body.preferred);
    const factors = availableFactors(s.account);
    if (enabled && !factors.length) throw new UserError(400, 'security.no_factor');
    if (!enabled && services.config.requireSecondFactor) throw new UserError(409, 'security.mfa_required');
    const choice = preferred && factors.includes(preferred) ? preferred : factors[0];
    await change(
      ctx,
      s,
      enabled ? 'mfa_enabled' : 'mfa_disabled',
      (a) => ({ ...a, mfa: enabled ? { enabled: true, preferred: choice } : { enabled: false } }),
      { preferred: enabled ? choice : undefined },
    );
    done(ctx, enabled ? 'mfa_enabled' : 'mfa_disabled');
  });

  router.get('/totp', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    // One app at a time: a second one would replace the first unannounced (its codes stop working).
    if (s.account.totp) throw new UserError(409, 'security.totp_exists');
    const flows = totpEnrolments.in(services.store);
    const saved = await flows.load(totpFlow(s));
    const app = services.factors.secretEnrolment;
    let enrolment: EnrolmentView;
    if (saved?.sealed) {
      enrolment = await app.view(s.account, saved.sealed, totpBinding(s));
    } else {
      const begun = await app.begin(s.account, totpBinding(s));
      await flows.save(totpFlow(s), { sealed: begun.sealed });
      enrolment = begun.view;
    }
    views.render(ctx, 'totp-enrol', {
      title: 'security.totp_title',
      csrf: ctx.state.csrf(binding(s)),
      qr: enrolment.qr,
      secret: enrolment.secret,
      error: ctx.query.error === 'code' ? views.t(ctx, 'mfa.errors.invalid') : undefined,
    });
  });

  router.post('/totp', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const flows = totpEnrolments.in(services.store);
    const saved = await flows.load(totpFlow(s));
    if (!saved?.sealed) throw new UserError(410, 'security.totp_expired');
    const code = parseForm(ctx, { code: text(32) }).code;
    if (s.account.totp) throw new UserError(409, 'security.totp_exists');
    const setUp = await services.factors.secretEnrolment.confirm(saved.sealed, totpBinding(s), code);
    if (!setUp) {
      ctx.status = 303;
      return ctx.redirect('/account/security/totp?error=code');
    }
    // Taken once: of parallel confirmations of one enrolment exactly one connects the app (one event, one message).
    if (!(await flows.consume(totpFlow(s)))) throw new UserError(410, 'security.totp_expired');
    await change(ctx, s, 'totp_added', setUp);
    done(ctx, 'totp_added');
  });

  router.post('/totp/remove', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    if (!s.account.totp) throw new UserError(404, 'security.not_found');
    await change(ctx, s, 'totp_removed', (a) => withoutFactor(a, { ...a, totp: undefined }));
    done(ctx, 'totp_removed');
  });

  router.post('/passkeys/options', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    ctx.body = await services.factors.get('webauthn')!.enrol!(s.account, binding(s));
  });

  router.post('/passkeys', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const body = parseForm(ctx, { handle: text(), response: raw(), name: text() });
    const passkey = (
      await services.webauthn.register(s.account, binding(s), String(body.handle ?? ''), body.response as never, String(body.name ?? ''))
    )?.passkey;
    if (!passkey) {
      ctx.status = 400;
      ctx.body = { error: views.t(ctx, 'webauthn.errors.register') };
      return;
    }
    await change(ctx, s, 'passkey_added', (a) => ({ ...a, passkeys: [...(a.passkeys ?? []), passkey] }), { name: passkey.name });
    ctx.body = { redirect: '/account/security?notice=passkey_added' };
  });

  router.post('/passkeys/:id/rename', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const name = parseForm(ctx, { name: text() }).name.trim();
    if (!name || name.length > PASSKEY_NAME_MAX) throw new UserError(400, 'passkeys.bad_name', { max: PASSKEY_NAME_MAX });
    if (!s.account.passkeys?.some((p) => p.id === ctx.params.id)) throw new UserError(404, 'security.not_found');
    await change(
      ctx,
      s,
      'passkey_renamed',
      (a) => ({ ...a, passkeys: (a.passkeys ?? []).map((p) => (p.id === ctx.params.id ? { ...p, name } : p)) }),
      { name },
    );
    done(ctx, 'passkey_renamed');
  });

  router.post('/passkeys/:id/remove', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const passkey = s.account.passkeys?.find((p) => p.id === ctx.params.id);
    if (!passkey) throw new UserError(404, 'security.not_found');
    await change(
      ctx,
      s,
      'passkey_removed',
      (a) => withoutFactor(a, { ...a, passkeys: (a.passkeys ?? []).filter((p) => p.id !== passkey.id) }),
      { name: passkey.name },
    );
    done(ctx, 'passkey_removed');
  });

  router.post('/recovery-codes', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const { codes, hashes } = services.recoveryCodes.generate(s.account.id);
    await change(ctx, s, 'recovery_codes_generated', (a) => ({ ...a, recoveryCodes: { hashes, createdAt: new Date().toISOString() } }));
    views.render(ctx, 'recovery-codes', { title: 'security.recovery_title', codes });
  });

  return router;
}
