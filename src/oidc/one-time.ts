/**
 * Single-use artefacts (DESIGN §5): node-oidc-provider checks `consumed` on what it read and then
 * calls `adapter.consume()` without looking at the result, so two parallel requests with one
 * authorization code could both pass. Here the store's conditional consume decides: the caller
 * that did not win gets the error a replay gets (the grant revoked, `invalid_grant`), or for a
 * pushed request_uri `invalid_request_uri`. Refresh tokens have their own loser path: the honest
 * retry within the grace (refresh-grace.ts).
 */
import Provider, { errors, type Adapter } from 'oidc-provider';
import type { OidcAdapter, OidcPayload, Store } from '../store.ts';
import type { RefreshGrace } from './refresh-grace.ts';

/** Models that carry a grant id: revoking a grant removes every one of them. */
const GRANT_BOUND_MODELS = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'];

/** The replay label node-oidc-provider uses for each grant source. */
const GRANT_SOURCES: Record<string, string> = {
  AuthorizationCode: 'authorization code',
  DeviceCode: 'device code',
  BackchannelAuthenticationRequest: 'backchannel authentication request',
};

/** Revokes a grant as node-oidc-provider does on a replay: its tokens and the grant itself. */
export async function revokeGrant(store: Store, grantId: string): Promise<void> {
  await Promise.all([
    ...GRANT_BOUND_MODELS.map((model) => store.oidcAdapter(model).revokeByGrantId(grantId)),
    store.oidcAdapter('Grant').destroy(grantId),
  ]);
  Provider.ctx?.oidc.provider.emit('grant.revoked', Provider.ctx, grantId);
}

/** What a lost consume means for one model. */
async function lost(store: Store, model: string, id: string, inner: OidcAdapter, grace: RefreshGrace): Promise<void> {
  if (model === 'PushedAuthorizationRequest') throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  if (model === 'RefreshToken' && (await grace.joinWinner(id))) return;
  const payload: OidcPayload | undefined = await inner.find(id);
  if (typeof payload?.grantId === 'string') await revokeGrant(store, payload.grantId);
  if (model === 'RefreshToken') throw new errors.InvalidGrant('refresh token already used');
  throw new errors.InvalidGrant(`${GRANT_SOURCES[model] ?? 'grant'} already consumed`);
}

/**
 * What the provider last read of a code or refresh token in a request (its account, grant and
 * model): the audit of a replay names the account even after the replay revoked everything.
 */
const lastFound = new WeakMap<object, { model: string; accountId?: string; grantId?: string }>();

export function foundGrantSource(ctx: object): { model: string; accountId?: string; grantId?: string } | undefined {
  return lastFound.get(ctx);
}

function noteFound(model: string, payload: OidcPayload | undefined): void {
  const ctx = Provider.ctx;
  if (!ctx || !payload) return;
  lastFound.set(ctx, {
    model,
    ...(typeof payload.accountId === 'string' ? { accountId: payload.accountId } : {}),
    ...(typeof payload.grantId === 'string' ? { grantId: payload.grantId } : {}),
  });
}

/**
 * A device code stays in the store this long after it expired, so a late poll or a late code
 * entry is told `expired_token` / "the code has expired" (RFC 8628 §3.5) rather than "not found".
 */
export const DEVICE_CODE_AFTERLIFE_SECONDS = 3600;

/** The store's adapter for one model, with consume deciding the race (see the file comment). */
export function oneTimeAdapter(store: Store, model: string, grace: RefreshGrace): Adapter {
  const inner = store.oidcAdapter(model);
  const adapter: Adapter = {
    upsert: (id, payload, expiresIn) =>
      inner.upsert(
        id,
        payload as OidcPayload,
        model === 'DeviceCode' && expiresIn ? expiresIn + DEVICE_CODE_AFTERLIFE_SECONDS : (expiresIn ?? 0),
      ),
    find: async (id) => {
      const payload = await inner.find(id);
      if (model === 'AuthorizationCode' || model === 'RefreshToken') noteFound(model, payload);
      return payload;
    },
    findByUid: (uid) => inner.findByUid(uid),
    findByUserCode: (userCode) => inner.findByUserCode(userCode),
    destroy: (id) => inner.destroy(id),
    revokeByGrantId: (grantId) => inner.revokeByGrantId(grantId),
    async consume(id) {
      if (model === 'RefreshToken' && grace.isRetry()) return;
      if (await inner.consume(id)) return;
      await lost(store, model, id, inner, grace);
    },
  };
  return model === 'RefreshToken' ? grace.wrap(adapter) : adapter;
}
