/**
 * Security events that happen inside node-oidc-provider's own endpoints, into the audit trail
 * (issue 14): a replayed authorization code, a reused (rotated-out) refresh token — both revoke
 * the grant —, a token revoked by the service (RFC 7009), a service entered by single sign-on
 * (`signin.sso`, once an hour per account and service), and a sign-out at the end-session endpoint.
 * The account is the one the token or code belonged to; nothing of the token is kept.
 */
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { AuditInput } from '../security/audit.ts';
import { foundGrantSource } from './one-time.ts';

type Record_ = (input: AuditInput) => Promise<unknown>;

interface TokenLike {
  accountId?: string;
  clientId?: string;
  kind?: string;
}

const ipOf = (ctx: KoaContextWithOIDC): string | undefined => (typeof ctx.ip === 'string' ? ctx.ip : undefined);

/** Audit writes started during a request: the response waits for them (the event is stored before the answer). */
const pending = new WeakMap<object, Promise<unknown>[]>();

/**
 * Subscribes to the provider's events; `record` is the AuditTrail's (it never throws). Each write
 * is awaited before the provider's response goes out.
 */
export function auditProviderEvents(
  provider: Provider,
  recordEvent: Record_,
  options: { firstPartyClients?: readonly string[]; ssoUseToRecord?: (key: string) => Promise<boolean> } = {},
): void {
  /** Records the event — when `wanted` (if given) says so — before the response goes out. */
  const record = (ctx: object, input: AuditInput, wanted?: Promise<boolean>) => {
    const writes = pending.get(ctx) ?? [];
    const write = wanted ? wanted.then((yes) => (yes ? recordEvent(input) : undefined)) : recordEvent(input);
    writes.push(write.catch(() => undefined));
    pending.set(ctx, writes);
  };
  // Written as promise callbacks rather than an async function: this runs on every provider request.
  const written = (ctx: object): Promise<unknown> | undefined => {
    const writes = pending.get(ctx);
    return writes && Promise.all(writes);
  };
  provider.use((ctx, next) =>
    next().then(
      () => written(ctx)?.then(() => undefined),
      (err: unknown) => {
        const writes = written(ctx);
        if (!writes) throw err;
        return writes.then(() => {
          throw err;
        });
      },
    ),
  );
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error) => {
    if (!(err instanceof errors.InvalidGrant)) return;
    // the reason is in `error_detail` (the description is the generic "grant request is invalid")
    const description = `${(err as { error_detail?: string }).error_detail ?? ''} ${err.message}`;
    const refresh = /refresh token already used/.test(description);
    const code = /already consumed/.test(description);
    if (!refresh && !code) return;
    const entities = ctx.oidc.entities as { RefreshToken?: TokenLike };
    const found = foundGrantSource(ctx);
    record(ctx, {
      type: refresh ? 'token.refresh_reuse' : 'token.code_replay',
      accountId: entities.RefreshToken?.accountId ?? found?.accountId,
      actor: ctx.oidc.client?.clientId ? `client:${ctx.oidc.client.clientId}` : 'anonymous',
      clientId: ctx.oidc.client?.clientId,
      ip: ipOf(ctx),
      outcome: 'failure',
      reason: refresh ? 'refresh_token_reuse' : 'code_replay',
      details: { grantRevoked: true, ...(found?.model ? { model: found.model } : {}) },
    });
  });

  provider.on('grant.revoked', (ctx: KoaContextWithOIDC | undefined) => {
    // Only the revocation endpoint: replays are recorded above, the cabinet records its own.
    if (!ctx?.oidc || ctx.oidc.route !== 'revocation') return;
    const entities = ctx.oidc.entities as { AccessToken?: TokenLike; RefreshToken?: TokenLike };
    const token = entities.RefreshToken ?? entities.AccessToken;
    record(ctx, {
      type: 'token.revoked',
      accountId: token?.accountId,
      actor: `client:${ctx.oidc.client?.clientId ?? 'unknown'}`,
      clientId: ctx.oidc.client?.clientId,
      ip: ipOf(ctx),
      outcome: 'success',
      details: { kind: entities.RefreshToken ? 'refresh_token' : 'access_token' },
    });
  });

  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    // A service entered on the strength of the session alone (single sign-on): no sign-in step in
    // this authorization — none at all, or an interaction that only asked for consent. A sign-in
    // step records its own `signin`. vkhod's own clients (the cabinet) are not a service entered.
    const { route, client } = ctx.oidc;
    const signedInNow = Boolean((ctx.oidc.result as { login?: unknown } | undefined)?.login);
    if (
      !(route === 'authorization' || (route === 'resume' && !signedInNow)) ||
      !client ||
      options.firstPartyClients?.includes(client.clientId)
    )
      return;
    const session = ctx.oidc.session as { accountId?: string; acr?: string; amr?: string[] } | undefined;
    if (!session?.accountId) return;
    // Once an hour per account and service (limits.ts, SSO_USE_RECORD_SECONDS): silent renewals are not news.
    record(
      ctx,
      {
        type: 'signin.sso',
        accountId: session.accountId,
        clientId: client.clientId,
        ip: ipOf(ctx),
        outcome: 'success',
        details: { acr: session.acr, amr: session.amr, ua: String(ctx.get('user-agent') ?? '').slice(0, 200) },
      },
      options.ssoUseToRecord?.(`${session.accountId} ${client.clientId}`),
    );
  });

  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session as { accountId?: string } | undefined;
    const accountId = session?.accountId;
    record(ctx, {
      type: 'signout',
      accountId,
      clientId: ctx.oidc.client?.clientId,
      ip: ipOf(ctx),
      outcome: 'success',
      details: { everywhere: Boolean((ctx.oidc.params as { logout?: unknown } | undefined)?.logout) },
    });
  });
}
