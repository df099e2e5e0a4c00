/**
 * The operator's workplace (/operator): plain HTML forms that work without JavaScript. Sign in
 * with an operator login and password → find a citizen by SNILS or passport → their card →
 * "passport checked — confirm identity" (the operator re-types series and number) → result;
 * the post room's letter queue with "marked sent"; sign out. Every form carries a CSRF token
 * bound to the operator's session; every action is audited with the operator as actor.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services.ts';
import type { Account } from '../accounts/account.ts';
import { UserError } from '../web/errors.ts';
import { citizenQuery, confirmationSchema, parseOrRefuse } from './input.ts';
import { VOID_REASONS, type LetterView } from './letter-queue.ts';
import {
  endOperatorSession,
  operatorBinding,
  operatorSession,
  startOperatorSession,
  OPERATOR_PATH,
  type OperatorSession,
} from './operator-session.ts';
import { hasRole, operatorActor, type OperatorRole } from './operators.ts';
import { citizenCard } from './service-centre.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'audit' | 'config' | 'csrf' | 'letterQueue' | 'operators' | 'serviceCentre' | 'views'>;

const LOGIN_BINDING = 'operator:login';
const NOTICES: Record<string, string> = {
  signed_out: 'operator.notices.signed_out',
  confirmed: 'operator.notices.confirmed',
  sent: 'operator.notices.sent',
  number_removed: 'operator.notices.number_removed',
};

function field(body: unknown, name: string): unknown {
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}

function text(body: unknown, name: string, max = 256): string {
  const value = field(body, name);
  return typeof value === 'string' ? value.slice(0, max) : '';
}

export function operatorPages(services: Deps): Router {
  const router = new Router({ prefix: OPERATOR_PATH });
  const { views, csrf, operators, audit } = services;
  const { serviceCentre: centre, letterQueue: queue } = services;

  const date = (ctx: Context, iso: string | undefined, time = false) =>
    iso
      ? new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso).toLocaleString(views.locale(ctx) === 'en' ? 'en-GB' : 'ru-RU', {
          timeZone: time ? 'Europe/Moscow' : 'UTC',
          day: 'numeric',
          month: 'long',
          year: 'numeric',
          ...(time ? { hour: '2-digit', minute: '2-digit' } : {}),
        })
      : undefined;

  const notice = (ctx: Context) => {
    const name = ctx.query.notice;
    // Only the notices there are: `?notice=constructor` is no key of them (Object.prototype's is not a text).
    return typeof name === 'string' && Object.hasOwn(NOTICES, name) ? NOTICES[name] : undefined;
  };

  /** The operator's session (with the role and, for POSTs, the CSRF token checked); undefined means "redirected to sign in". */
  async function signedIn(ctx: Context, role?: OperatorRole): Promise<OperatorSession | undefined> {
    const session = await operatorSession(services, ctx);
    if (!session) {
      if (ctx.method !== 'GET') throw new UserError(401, 'operator.errors.signed_out');
      ctx.redirect(`${OPERATOR_PATH}/login`);
      return undefined;
    }
    if (ctx.method === 'POST') csrf.verify(ctx, operatorBinding(session));
    if (role && !hasRole(session.operator, role)) {
      await audit.record({
        type: 'admin.forbidden',
        actor: operatorActor(session.operator),
        ip: ctx.ip,
        outcome: 'failure',
        details: { path: ctx.path.slice(0, 200), role },
      });
      throw new UserError(403, 'operator.errors.forbidden');
    }
    return session;
  }

  function render(ctx: Context, session: OperatorSession, page: string, data: Record<string, unknown>, status = 200): void {
    const { operator } = session;
    views.render(
      ctx,
      page,
      {
        ...data,
        csrf: ctx.state.csrf(operatorBinding(session)),
        operator: {
          name: operator.name,
          login: operator.login,
          canSearch: hasRole(operator, 'service_centre'),
          canLetters: hasRole(operator, 'post'),
        },
      },
      status,
    );
  }

  function renderCard(ctx: Context, session: OperatorSession, account: Account, extra: Record<string, unknown> = {}, status = 200): void {
    const card = citizenCard(account);
    render(
      ctx,
      session,
      'operator-account',
      {
        title: 'operator.card.title',
        card,
        birthDate: date(ctx, card.birth_date),
        level: views.t(ctx, `levels.${card.level}`),
        registry: views.t(ctx, `admin.registry.${card.verification.registry_check}`),
        verifiedBy: card.verification.verified_by.map((v) => ({
          method: views.t(ctx, `admin.methods.${v.method}`),
          level: views.t(ctx, `levels.${v.level}`),
          time: date(ctx, v.time, true),
        })),
        confirmed: card.level === 'confirmed',
        certificates: signatureCertificates(account),
        ...extra,
      },
      status,
    );
  }

  /** The qualified certificates the citizen signed in or confirmed with, as the evidence recorded them. */
  function signatureCertificates(account: Account): Array<Record<string, unknown>> {
    const seen = new Set<string>();
    return (account.verifications ?? [])
      .filter((v) => v.method === 'esignature' && typeof v.evidence?.serialNumber === 'string')
      .map((v) => v.evidence as Record<string, unknown>)
      .filter((e) => !seen.has(`${e.issuer}|${e.serialNumber}`) && Boolean(seen.add(`${e.issuer}|${e.serialNumber}`)))
      .map((e) => {
        const tools = e.signTools as { subject?: string; issuer?: string[] } | undefined;
        const organization = e.organization as { name?: string; ogrn?: string; ogrnip?: string; inn?: string } | undefined;
        return {
          issuer: e.issuer,
          serialNumber: e.serialNumber,
          keyAlgorithm: e.keyAlgorithm,
          organization,
          subjectTool: tools?.subject,
          issuerTools: tools?.issuer?.join('; '),
        };
      });
  }

  function renderLetters(
    ctx: Context,
    session: OperatorSession,
    room: { queued: LetterView[]; voided: LetterView[] },
    extra: Record<string, unknown> = {},
    status = 200,
  ): void {
    const voided = room.voided.map((l) => ({
      ...l,
      created: date(ctx, l.created_at, true),
      cancelled: date(ctx, l.cancelled_at!, true),
      reason: views.t(ctx, `operator.letters.reasons.${VOID_REASONS.has(l.cancel_reason ?? '') ? l.cancel_reason : 'other'}`),
    }));
    render(
      ctx,
      session,
      'operator-letters',
      {
        title: 'operator.letters.title',
        letters: room.queued.map((l) => ({ ...l, created: date(ctx, l.created_at, true) })),
        voided,
        ...extra,
      },
      status,
    );
  }

  router.get('/', async (ctx) => {
    const session = await operatorSession(services, ctx);
    ctx.redirect(
      !session
        ? `${OPERATOR_PATH}/login`
        : hasRole(session.operator, 'service_centre')
          ? `${OPERATOR_PATH}/search`
          : `${OPERATOR_PATH}/letters`,
    );
  });

  router.get('/login', async (ctx) => {
    if (await operatorSession(services, ctx)) return ctx.redirect(OPERATOR_PATH);
    views.render(ctx, 'operator-login', { title: 'operator.login.title', csrf: ctx.state.csrf(LOGIN_BINDING), notice: notice(ctx) });
  });

  router.post('/login', async (ctx) => {
    csrf.verify(ctx, LOGIN_BINDING);
    const body = ctx.request.body;
    const login = text(body, 'login', 64).trim();
    const password = text(body, 'password');
    const again = (status: number, key: string, params?: Record<string, unknown>) =>
      views.render(
        ctx,
        'operator-login',
        { title: 'operator.login.title', csrf: ctx.state.csrf(LOGIN_BINDING), login, error: views.t(ctx, key, params) },
        status,
      );
    if (!login || !password) return again(400, 'operator.errors.required');
    const result = await operators.verify(login, password, ctx.ip);
    if (!result.ok) {
      if (result.reason === 'locked') {
        ctx.set('retry-after', String(result.retryAfter));
        return again(429, 'operator.errors.locked', { minutes: Math.ceil(result.retryAfter / 60) });
      }
      return again(401, 'operator.errors.invalid');
    }
    startOperatorSession(services, ctx, result.operator);
    await audit.record({ type: 'admin.signed_in', actor: operatorActor(result.operator), ip: ctx.ip, outcome: 'success' });
    ctx.status = 303;
    ctx.redirect(OPERATOR_PATH);
  });

  router.post('/logout', async (ctx) => {
    const session = await signedIn(ctx);
    if (!session) return;
    endOperatorSession(services, ctx);
    await audit.record({ type: 'admin.signed_out', actor: operatorActor(session.operator), ip: ctx.ip, outcome: 'success' });
    ctx.status = 303;
    ctx.redirect(`${OPERATOR_PATH}/login?notice=signed_out`);
  });

  router.get('/search', async (ctx) => {
    const session = await signedIn(ctx, 'service_centre');
    if (!session) return;
    render(ctx, session, 'operator-search', { title: 'operator.search.title' });
  });

  router.post('/search', async (ctx) => {
    const session = await signedIn(ctx, 'service_centre');
    if (!session) return;
    const body = ctx.request.body;
    const typed = { snils: text(body, 'snils', 32), passport: text(body, 'passport', 32) };
    let holders: Account[];
    try {
      holders = await centre.holders(citizenQuery(typed), session.operator, ctx.ip);
    } catch (err) {
      if (!(err instanceof UserError) || err.status !== 400) throw err;
      return render(
        ctx,
        session,
        'operator-search',
        { title: 'operator.search.title', ...typed, error: views.t(ctx, err.messageKey, err.params) },
        400,
      );
    }
    if (!holders.length) return render(ctx, session, 'operator-search', { title: 'operator.search.title', ...typed, notFound: true });
    // Several accounts hold the number (one verified at most): a conflict, each account listed.
    if (holders.length > 1) {
      const matches = holders.map((a) => ({ id: a.id, full_name: citizenCard(a).full_name, level: views.t(ctx, `levels.${a.level}`) }));
      return render(ctx, session, 'operator-search', { title: 'operator.search.title', ...typed, matches });
    }
    ctx.status = 303;
    ctx.redirect(`${OPERATOR_PATH}/accounts/${encodeURIComponent(holders[0]!.id)}`);
  });

  router.get('/accounts/:id', async (ctx) => {
    const session = await signedIn(ctx, 'service_centre');
    if (!session) return;
    const account = await centre.open(ctx.params.id!, session.operator, ctx.ip);
    renderCard(ctx, session, account, { notice: notice(ctx), conflicts: await conflictsView(ctx, account) });
  });

  async function conflictsView(ctx: Context, account: Account) {
    return (await centre.conflicts(account)).map((c) => ({ ...c, label: views.t(ctx, `operator.conflicts.kind.${c.kind}`) }));
  }

  /** Resolves a conflict: the number is taken from this account, where it is only typed in. */
  router.post('/accounts/:id/numbers/:kind/remove', async (ctx) => {
    const session = await signedIn(ctx, 'service_centre');
    if (!session) return;
    try {
      await centre.removeNumber(ctx.params.id!, ctx.params.kind!, session.operator, ctx.ip);
    } catch (err) {
      if (!(err instanceof UserError) || err.status !== 409) throw err;
      const account = await centre.find(ctx.params.id!);
      return renderCard(
        ctx,
        session,
        account,
        { error: views.t(ctx, err.messageKey, err.params), conflicts: await conflictsView(ctx, account) },
        409,
      );
    }
    ctx.status = 303;
    ctx.redirect(`${OPERATOR_PATH}/accounts/${encodeURIComponent(ctx.params.id!)}?notice=number_removed`);
  });

  router.post('/accounts/:id/confirm', async (ctx) => {
    const session = await signedIn(ctx, 'service_centre');
    if (!session) return;
    const body = ctx.request.body;
    const typed = {
      passport_series: field(body, 'passport_series'),
      passport_number: field(body, 'passport_number'),
      office: field(body, 'office'),
    };
    try {
      await centre.confirm(ctx.params.id!, parseOrRefuse(confirmationSchema, typed), session.operator, ctx.ip);
    } catch (err) {
      if (!(err instanceof UserError) || (err.status !== 400 && err.status !== 409)) throw err;
      const account = await centre.find(ctx.params.id!);
      const shown = (v: unknown) => (typeof v === 'string' ? v.slice(0, 256) : '');
      return renderCard(
        ctx,
        session,
        account,
        {
          error: views.t(ctx, err.messageKey, err.params),
          series: shown(typed.passport_series),
          number: shown(typed.passport_number),
          office: shown(typed.office),
        },
        err.status,
      );
    }
    ctx.status = 303;
    ctx.redirect(`${OPERATOR_PATH}/accounts/${encodeURIComponent(ctx.params.id!)}?notice=confirmed`);
  });

  router.get('/letters', async (ctx) => {
    const session = await signedIn(ctx, 'post');
    if (!session) return;
    renderLetters(ctx, session, await queue.postRoom(session.operator, ctx.ip), { notice: notice(ctx) });
  });

  router.post('/letters/:id/sent', async (ctx) => {
    const session = await signedIn(ctx, 'post');
    if (!session) return;
    try {
      await queue.markSent(ctx.params.id!, session.operator, ctx.ip);
    } catch (err) {
      if (!(err instanceof UserError) || (err.status !== 404 && err.status !== 409)) throw err;
      return renderLetters(
        ctx,
        session,
        await queue.postRoom(session.operator, ctx.ip),
        { error: views.t(ctx, err.messageKey, err.params) },
        err.status,
      );
    }
    ctx.status = 303;
    ctx.redirect(`${OPERATOR_PATH}/letters?notice=sent`);
  });

  return router;
}
