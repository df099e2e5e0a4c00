/**
 * The admin API's relying parties and signing keys (issue 14; docs/admin-api.md): role `admin`.
 * Changes go to the store and are seen by every process within seconds; each is audited
 * (`client.*`, `key.*`) with the operator as actor.
 */
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { ClientRegistrationError, type ClientProblem } from '../oidc/client-registrations.ts';
import { SigningKeyError, type KeyStatus } from '../oidc/keys.ts';
import type { Services } from '../services.ts';
import { UserError } from '../web/errors.ts';
import { operatorActor, type OperatorRole } from './operators.ts';

const CLIENT_PROBLEMS: Record<ClientProblem, [number, string]> = {
  not_found: [404, 'admin.errors.client_not_found'],
  exists: [409, 'admin.errors.client_exists'],
  reserved: [409, 'admin.errors.client_reserved'],
  invalid: [400, 'admin.errors.client_metadata'],
  secret_given: [400, 'admin.errors.client_secret_given'],
  no_secret: [409, 'admin.errors.client_no_secret'],
  conflict: [409, 'admin.errors.client_conflict'],
  esia: [400, 'admin.errors.client_esia'],
};

const rotationSchema = z.strictObject({
  overlap_seconds: z
    .number({ error: 'admin.errors.overlap_seconds' })
    .int({ error: 'admin.errors.overlap_seconds' })
    .min(0, { error: 'admin.errors.overlap_seconds' })
    .max(90 * 86400, { error: 'admin.errors.overlap_seconds' })
    .optional(),
});

const keyRotationSchema = z.strictObject({
  delay_seconds: z
    .number({ error: 'admin.errors.delay_seconds' })
    .int({ error: 'admin.errors.delay_seconds' })
    .min(0, { error: 'admin.errors.delay_seconds' })
    .max(30 * 86400, { error: 'admin.errors.delay_seconds' })
    .optional(),
});

const emptySchema = z.strictObject({});

/** A small JSON body: an object (an empty body counts as `{}`), its fields as `schema` says. */
function parseBody<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const body = input === undefined || (typeof input === 'object' && input !== null && Object.keys(input).length === 0) ? {} : input;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new UserError(400, 'admin.errors.json_object');
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') throw new UserError(400, 'admin.errors.unknown_fields', { fields: issue.keys.join(', ') });
  throw new UserError(400, issue.message.startsWith('admin.errors.') ? issue.message : 'admin.errors.invalid_body');
}

/** The domain's refusals as the API's answers. */
async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ClientRegistrationError) {
      const [status, key] = CLIENT_PROBLEMS[err.code];
      throw new UserError(status, key, { detail: err.detail ?? '' });
    }
    if (err instanceof SigningKeyError)
      throw new UserError(
        err.code === 'not_found' ? 404 : 409,
        err.code === 'not_found' ? 'admin.errors.key_not_found' : 'admin.errors.keys_conflict',
      );
    throw err;
  }
}

const keyView = (k: KeyStatus) => ({
  kid: k.kid,
  alg: k.alg,
  state: k.state,
  created_at: k.createdAt,
  ...(k.activatesAt ? { activates_at: k.activatesAt } : {}),
  ...(k.retiredAt ? { retired_at: k.retiredAt } : {}),
  ...(k.withdrawnAt ? { withdrawn_at: k.withdrawnAt } : {}),
});

export function registryRoutes(
  router: Router,
  services: Pick<Services, 'clientRegistrations' | 'signingKeys' | 'audit' | 'config'>,
  requires: (role: OperatorRole) => Middleware,
  jsonBody: (ctx: Context) => Promise<unknown>,
): void {
  const { clientRegistrations: clients, signingKeys, audit, config } = services;
  const by = (ctx: Context) => ({ actor: operatorActor(ctx.state.operator), ip: ctx.ip });
  const retention = config.ttl.refreshToken;

  router.get('/clients', requires('admin'), async (ctx) => {
    ctx.body = { clients: await clients.list() };
  });

  router.post('/clients', requires('admin'), async (ctx) => {
    const body = await jsonBody(ctx);
    const { client, secret } = await answering(() => clients.create(body, by(ctx)));
    ctx.status = 201;
    ctx.body = { client, ...(secret ? { client_secret: secret } : {}) };
  });

  router.get('/clients/:id', requires('admin'), async (ctx) => {
    ctx.body = { client: await answering(() => clients.get(ctx.params.id!)) };
  });

  router.patch('/clients/:id', requires('admin'), async (ctx) => {
    const body = await jsonBody(ctx);
    const { client, secret } = await answering(() => clients.update(ctx.params.id!, body, by(ctx)));
    ctx.body = { client, ...(secret ? { client_secret: secret } : {}) };
  });

  router.delete('/clients/:id', requires('admin'), async (ctx) => {
    await answering(() => clients.delete(ctx.params.id!, by(ctx)));
    ctx.status = 204;
  });

  router.post('/clients/:id/secret', requires('admin'), async (ctx) => {
    const { overlap_seconds: overlapSeconds } = parseBody(rotationSchema, await jsonBody(ctx));
    const { client, secret } = await answering(() => clients.rotateSecret(ctx.params.id!, { overlapSeconds }, by(ctx)));
    ctx.body = { client, client_secret: secret };
  });

  router.post('/clients/:id/secret/end-overlap', requires('admin'), async (ctx) => {
    parseBody(emptySchema, await jsonBody(ctx));
    ctx.body = await answering(() => clients.endOverlap(ctx.params.id!, by(ctx)));
  });

  router.post('/clients/:id/disable', requires('admin'), async (ctx) => {
    parseBody(emptySchema, await jsonBody(ctx));
    ctx.body = await answering(() => clients.setStatus(ctx.params.id!, 'disabled', by(ctx)));
  });

  router.post('/clients/:id/enable', requires('admin'), async (ctx) => {
    parseBody(emptySchema, await jsonBody(ctx));
    ctx.body = await answering(() => clients.setStatus(ctx.params.id!, 'active', by(ctx)));
  });

  router.get('/keys', requires('admin'), async (ctx) => {
    ctx.body = { keys: (await signingKeys.keys.list(retention)).map(keyView) };
  });

  router.post('/keys/rotate', requires('admin'), async (ctx) => {
    const { delay_seconds: delay = config.signingKeys.activationDelaySeconds } = parseBody(keyRotationSchema, await jsonBody(ctx));
    const result = await answering(() => signingKeys.keys.rotate(retention, delay));
    await signingKeys.refresh();
    await audit.record({
      type: 'key.rotated',
      ...by(ctx),
      outcome: 'success',
      details: { pending: result.pending, activatesAt: result.activatesAt },
    });
    ctx.body = { pending: result.pending, activates_at: result.activatesAt };
  });

  router.post('/keys/:kid/activate', requires('admin'), async (ctx) => {
    parseBody(emptySchema, await jsonBody(ctx));
    const activated = await answering(() => signingKeys.keys.activate(retention, ctx.params.kid!));
    await signingKeys.refresh();
    await audit.record({ type: 'key.activated', ...by(ctx), outcome: 'success', details: { kids: activated } });
    ctx.body = { activated };
  });

  router.post('/keys/:kid/withdraw', requires('admin'), async (ctx) => {
    parseBody(emptySchema, await jsonBody(ctx));
    const result = await answering(() => signingKeys.keys.withdraw(retention, ctx.params.kid!));
    await signingKeys.refresh();
    await audit.record({
      type: 'key.withdrawn',
      ...by(ctx),
      outcome: 'success',
      details: { kid: result.withdrawn, replacement: result.replacement ?? null },
    });
    ctx.body = { withdrawn: result.withdrawn, ...(result.replacement ? { replacement: result.replacement } : {}) };
  });
}
