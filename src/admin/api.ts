/**
 * The admin API (docs/admin-api.md): JSON under /admin/api for service-centre and post-room
 * software. Every request authenticates with HTTP Basic (operator login and password; failures
 * count towards the operator lockout); each endpoint needs a role. Every POST carries
 * `Content-Type: application/json` (no cross-site form can). Answers are JSON — errors
 * too, as `{ error, error_description }` with the description in the caller's language
 * (Russian by default) — and never a 500 for bad input.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';
import type { Services } from '../services.ts';
import { UserError } from '../web/errors.ts';
import { isCompressed } from '../web/request-gate.ts';
import { auditQuery, readAudit } from './audit-query.ts';
import { contactResetSchema, resetContact } from './contact-reset.ts';
import { citizenQuery, confirmationSchema, deletionSchema, letterStatus, parseOrRefuse } from './input.ts';
import { hasRole, operatorActor, type Operator, type OperatorRole } from './operators.ts';
import { citizenCard } from './service-centre.ts';
import { registryRoutes } from './registry-routes.ts';
import { routedPath } from '../web/routed-path.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  | 'accountDeletion'
  | 'accounts'
  | 'audit'
  | 'clientRegistrations'
  | 'config'
  | 'letterQueue'
  | 'logger'
  | 'notifier'
  | 'operators'
  | 'serviceCentre'
  | 'signingKeys'
  | 'store'
  | 'views'
>;

export const ADMIN_API_PREFIX = '/admin/api';
export const ADMIN_JSON_LIMIT = '16kb';
const REALM = 'Basic realm="vkhod admin", charset="UTF-8"';

/** login and password from `Authorization: Basic …` (RFC 7617, UTF-8), or undefined. */
export function basicCredentials(header: string): { login: string; password: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]{1,1024}={0,2}) *$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  return { login: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Body-reading failures (co-body / raw-body error types) → message keys. */
const BODY_ERRORS: Record<string, string> = {
  'entity.parse.failed': 'admin.errors.malformed_json',
  'entity.too.large': 'admin.errors.too_large',
  'entity.verify.failed': 'admin.errors.malformed_json',
};

/** co-body's refusal of a `__proto__` / `constructor.prototype` key. */
const FORBIDDEN_PROTOTYPE = /forbidden prototype property/i;

const STATUS_ERRORS: Record<number, string> = {
  404: 'admin.errors.not_found',
  405: 'admin.errors.method',
  413: 'admin.errors.too_large',
  415: 'admin.errors.json_only',
  501: 'admin.errors.method',
};

export function adminApi(services: Deps): Middleware {
  const { views, logger, operators, audit } = services;
  const { serviceCentre: centre, letterQueue: queue } = services;
  // Not strict: a JSON string or number is read, then refused by the schema as "not an object".
  const readJson = bodyParser({
    enableTypes: ['json'],
    jsonLimit: ADMIN_JSON_LIMIT,
    jsonStrict: false,
    encoding: 'utf-8',
    // A body that cannot be read (e.g. "gzip" that is not) is the caller's mistake: 4xx, not 500.
    onError: (err) => {
      throw Object.assign(err, { status: (err as { status?: number }).status ?? 400 });
    },
  });
  const router = new Router({ prefix: ADMIN_API_PREFIX });

  async function authenticate(ctx: Context): Promise<Operator> {
    const credentials = basicCredentials(ctx.get('authorization'));
    if (!credentials) throw new UserError(401, 'admin.errors.auth_required');
    const result = await operators.verify(credentials.login, credentials.password, ctx.ip);
    if (result.ok) return result.operator;
    if (result.reason === 'locked')
      throw new UserError(429, 'admin.errors.locked', { minutes: Math.ceil(result.retryAfter / 60), retryAfter: result.retryAfter });
    throw new UserError(401, 'admin.errors.auth_failed');
  }

  /** Authenticates the operator and checks the role; the operator is then `ctx.state.operator`. */
  const requires = (role: OperatorRole) =>
    async function checkRole(ctx: Context, next: Next) {
      const operator = await authenticate(ctx);
      if (!hasRole(operator, role)) {
        await audit.record({
          type: 'admin.forbidden',
          actor: operatorActor(operator),
          ip: ctx.ip,
          outcome: 'failure',
          details: { path: ctx.path.slice(0, 200), role },
        });
        throw new UserError(403, 'admin.errors.forbidden_role', { role: views.t(ctx, `admin.roles.${role}`) });
      }
      ctx.state.operator = operator;
      await next();
    };

  async function jsonBody(ctx: Context): Promise<unknown> {
    if (!ctx.is('application/json')) throw new UserError(415, 'admin.errors.json_only');
    await readJson(ctx, async () => undefined);
    // An empty body said to be JSON is no body ("send `{}` or nothing"), not a body of the wrong shape.
    return ctx.request.body === '' ? undefined : ctx.request.body;
  }

  router.get('/accounts', requires('service_centre'), async (ctx) => {
    const key = citizenQuery({ snils: ctx.query.snils, passport: ctx.query.passport });
    const account = await centre.search(key, ctx.state.operator, ctx.ip);
    ctx.body = { accounts: account ? [citizenCard(account)] : [] };
  });

  router.post('/accounts/:id/confirm', requires('service_centre'), async (ctx) => {
    const input = parseOrRefuse(confirmationSchema, await jsonBody(ctx));
    const account = await centre.confirm(ctx.params.id!, input, ctx.state.operator, ctx.ip);
    ctx.body = { account: citizenCard(account) };
  });

  // Recovery at a service centre: a new confirmed contact set against the passport (contact-reset.ts).
  router.post('/accounts/:id/contact', requires('service_centre'), async (ctx) => {
    const input = parseOrRefuse(contactResetSchema, await jsonBody(ctx));
    const { account, contact } = await resetContact(services, ctx.params.id!, input, ctx.state.operator, ctx.ip);
    await services.notifier
      .send(contact, { subject: views.t(ctx, 'messages.contact_reset.subject'), text: views.t(ctx, 'messages.contact_reset.text') })
      .catch(() => undefined);
    ctx.body = { account: citizenCard(account), contact: contact.kind };
  });

  // Deleting an account for an operator (docs/admin-api.md): the same as the cabinet's, with a reason.
  router.post('/accounts/:id/deletion', requires('admin'), async (ctx) => {
    const { reason } = parseOrRefuse(deletionSchema, await jsonBody(ctx));
    const account = await services.accountDeletion.request(ctx.params.id!, {
      actor: operatorActor(ctx.state.operator),
      reason,
      ip: ctx.ip,
    });
    if (!account) throw new UserError(404, 'admin.errors.account_not_found');
    ctx.body = { account: { id: account.id, status: account.status, erase_after: account.deletion!.eraseAfter } };
  });

  router.post('/accounts/:id/deletion/cancel', requires('admin'), async (ctx) => {
    await jsonBody(ctx);
    const account = await services.accountDeletion.cancel(ctx.params.id!, { actor: operatorActor(ctx.state.operator), ip: ctx.ip });
    if (!account) throw new UserError(404, 'admin.errors.no_deletion');
    ctx.body = { account: { id: account.id, status: account.status } };
  });

  router.get('/letters', requires('post'), async (ctx) => {
    ctx.body = { letters: await queue.list(letterStatus(ctx.query.status), ctx.state.operator, ctx.ip) };
  });

  router.post('/letters/:id/sent', requires('post'), async (ctx) => {
    ctx.body = { letter: await queue.markSent(ctx.params.id!, ctx.state.operator, ctx.ip) };
  });

  // The audit trail (issue 14): admins only (it names accounts, addresses and clients); the read is itself recorded.
  router.get('/audit', requires('admin'), async (ctx) => {
    const query = auditQuery(ctx.query);
    const page = await readAudit(services.store.audit, query);
    const { limit: _limit, cursor: _cursor, ...filters } = query;
    await audit.record({
      type: 'admin.audit_read',
      actor: operatorActor(ctx.state.operator),
      ip: ctx.ip,
      outcome: 'success',
      details: { ...filters, count: page.events.length },
    });
    ctx.body = { events: page.events, ...(page.next ? { next: page.next } : {}) };
  });

  // Relying parties and signing keys (issue 14): src/admin/registry-routes.ts.
  registryRoutes(router, services, requires, jsonBody);

  function answerError(ctx: Context, err: unknown): void {
    const e = err as Error & { status?: number; type?: string };
    let status = 500;
    let key = 'errors.internal';
    let params: Record<string, unknown> = {};
    if (e instanceof UserError) {
      ({ status, messageKey: key, params } = e);
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      status = e.status;
      // co-body answers unparsable JSON with a SyntaxError marked 400, and so a `__proto__` key
      // (secure-json-parse): that body is well-formed, and "check the quotes" would mislead.
      key =
        e instanceof SyntaxError
          ? FORBIDDEN_PROTOTYPE.test(e.message)
            ? 'admin.errors.forbidden_key'
            : 'admin.errors.malformed_json'
          : ((e.type && BODY_ERRORS[e.type]) ?? STATUS_ERRORS[status] ?? 'admin.errors.invalid_body');
    } else {
      logger.error({ err: e, path: ctx.path, method: ctx.method }, 'admin api error');
    }
    if (status === 401) ctx.set('www-authenticate', REALM);
    if (status === 429 && typeof params.retryAfter === 'number') ctx.set('retry-after', String(params.retryAfter));
    ctx.status = status;
    ctx.body = { error: status >= 500 ? 'server_error' : key.split('.').pop(), error_description: views.t(ctx, key, params) };
  }

  const routes = router.routes() as unknown as Middleware;
  const allowed = router.allowedMethods() as unknown as Middleware;
  return async function adminApiRoutes(ctx: Context, next: Next): Promise<void> {
    const path = routedPath(ctx);
    if (path !== ADMIN_API_PREFIX && !path.startsWith(`${ADMIN_API_PREFIX}/`)) return next();
    ctx.set('cache-control', 'no-store');
    try {
      // A cross-site form can POST here with the Basic credentials a browser has cached, but it
      // cannot send this type (that takes a CORS preflight, which the API never allows): every
      // POST must say it is JSON, with or without a body. Checked before anything else is done.
      if (ctx.method === 'POST' && ctx.request.type.trim().toLowerCase() !== 'application/json')
        throw new UserError(415, 'admin.errors.json_only');
      // A compressed body is never read (see src/web/request-gate.ts: a decoder left behind crashes the process).
      if (isCompressed(ctx)) {
        ctx.set('accept-encoding', 'identity');
        throw new UserError(415, 'admin.errors.encoding');
      }
      await routes(ctx, () => allowed(ctx, async () => undefined));
      // A method no route implements (TRACE, PROPFIND) is as wrong as one this path lacks: 405, never a 5xx.
      if (ctx.status === 405 || ctx.status === 501) throw new UserError(405, STATUS_ERRORS[405]!);
      if (ctx.status === 404 && ctx.body === undefined) throw new UserError(404, 'admin.errors.not_found');
    } catch (err) {
      answerError(ctx, err);
    }
  };
}
