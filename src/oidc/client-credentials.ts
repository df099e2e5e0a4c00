/**
 * The `client_credentials` grant for machine use: a token carries only the resource scopes the
 * client is registered for under `vkhod_machine_scope`, never the citizens' scopes (openid,
 * profile, …) — those describe a person, and a machine token has none. A scope outside the
 * registration is `invalid_scope`; no scope asked means every registered one.
 *
 * Registered in place of node-oidc-provider's own handler (which accepts any scope of the
 * client's `scope` and passes unknown ones through); vkhod enables none of the features that
 * handler adds (DPoP, mTLS, resource indicators, RAR).
 */
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

export function machineScopes(client: object | undefined): Set<string> {
  const value = (client as Record<string, unknown> | undefined)?.vkhod_machine_scope;
  return new Set(typeof value === 'string' ? value.split(' ').filter(Boolean) : []);
}

async function clientCredentialsGrant(ctx: KoaContextWithOIDC): Promise<void> {
  const client = ctx.oidc.client!;
  const registered = machineScopes(client);
  const requested = [
    ...new Set(
      String(ctx.oidc.params?.scope ?? '')
        .split(' ')
        .filter(Boolean),
    ),
  ];
  const outside = requested.find((scope) => !registered.has(scope));
  if (outside) throw new errors.InvalidScope("requested scope is not registered for this client's machine use", outside);
  const scope = (requested.length ? requested : [...registered]).join(' ') || undefined;
  const token = new ctx.oidc.provider.ClientCredentials({ client, scope });
  ctx.oidc.entity('ClientCredentials', token);
  const value = await token.save();
  ctx.body = { access_token: value, expires_in: token.expiration, token_type: token.tokenType, ...(scope ? { scope } : {}) };
}

/** Replaces node-oidc-provider's handler (call right after the provider is constructed). */
export function useMachineScopeGrant(provider: Provider): void {
  provider.registerGrantType('client_credentials', clientCredentialsGrant as never, ['scope']);
}
