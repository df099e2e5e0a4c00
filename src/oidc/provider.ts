/**
 * node-oidc-provider's configuration as a pure function of vkhod's dependencies, and the
 * provider built from it. This is the only module that configures node-oidc-provider.
 */
import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC, type UnknownObject, type ErrorOut } from 'oidc-provider';
import type { Config } from '../../config/load.ts';
import type { ClientMetadata } from '../../config/clients.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { Store } from '../store.ts';
import { ACR_VALUES, requestedAcrs } from './acr.ts';
import { accountClaims, SCOPE_CLAIMS, SCOPES } from './claims.ts';

/** The pages node-oidc-provider renders itself, drawn by vkhod's views. */
export interface ProviderPages {
  error(ctx: KoaContextWithOIDC, out: ErrorOut, error: Error): Promise<void>;
  logout(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  loggedOut(ctx: KoaContextWithOIDC): Promise<void>;
}

export interface ProviderDependencies {
  config: Config;
  store: Store;
  accounts: Accounts;
  clients: ClientMetadata[];
  jwks: { keys: object[] };
  cookieKeys: string[];
  pages: ProviderPages;
}

/** Where node-oidc-provider sends the browser for an interaction; flows are mounted there. */
export const interactionPath = (uid: string) => `/interaction/${uid}`;

/**
 * The login prompt, plus one check: a request whose acr values the current session does not
 * satisfy goes through the interaction again (step-up, or a silent re-issue with the right acr).
 */
function interactions(): Configuration['interactions'] {
  const { base, Check } = interactionPolicy;
  const policy = base();
  policy.get('login')!.checks.add(
    new Check('acr_not_satisfied', 'the session does not satisfy the requested acr values', (ctx) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
      const requested = requestedAcrs(oidc.params as Record<string, unknown>);
      if (!requested.length || requested.includes(oidc.session?.acr as (typeof requested)[number])) return Check.NO_NEED_TO_PROMPT;
      return Check.REQUEST_PROMPT;
    }),
  );
  return { policy, url: (_ctx, interaction) => interactionPath(interaction.uid) };
}

export function providerConfiguration(deps: ProviderDependencies): Configuration {
  const { config, store, accounts, pages } = deps;
  return {
    adapter: (name: string) => store.oidcAdapter(name),
    clients: deps.clients as Configuration['clients'],
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'RS256' },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    responseTypes: ['code'],
    scopes: SCOPES,
    claims: SCOPE_CLAIMS,
    acrValues: [...ACR_VALUES],
    jwks: deps.jwks as Configuration['jwks'],
    cookies: {
      keys: deps.cookieKeys,
      names: { session: 'vkhod.session', interaction: 'vkhod.interaction', resume: 'vkhod.resume' },
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => pages.logout(ctx, form),
        postLogoutSuccessSource: (ctx) => pages.loggedOut(ctx),
      },
    },
    interactions: interactions(),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: config.ttl.accessToken,
      ClientCredentials: config.ttl.accessToken,
      AuthorizationCode: 60,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      Grant: config.ttl.refreshToken,
      Interaction: 3600,
      Session: config.ttl.session,
      BackchannelAuthenticationRequest: 600,
      DeviceCode: 600,
      PushedAuthorizationRequest: 60,
    },
    async findAccount(_ctx, sub, token) {
      const account = await accounts.findActive(sub);
      if (!account) return undefined;
      // Tokens issued before a password reset are dead even if a copy survived revocation.
      const issuedAt = (token as { iat?: number } | undefined)?.iat;
      if (issuedAt && account.sessionsValidAfter && issuedAt * 1000 < Date.parse(account.sessionsValidAfter) - 1000) return undefined;
      return {
        accountId: account.id,
        claims: async () => accountClaims(account) as { sub: string } & UnknownObject,
      };
    },
    /** Consent is remembered per client across sessions: the account keeps the grant id. */
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const clientId = oidc.client!.clientId;
      const accountId = oidc.session!.accountId;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      if (!accountId) return undefined;
      const account = await accounts.findActive(accountId);
      const remembered = (account?.extra?.consents as Record<string, string> | undefined)?.[clientId];
      if (!remembered) return undefined;
      const grant = await oidc.provider.Grant.find(remembered);
      return grant && grant.accountId === accountId && grant.clientId === clientId ? grant : undefined;
    },
    renderError: (ctx, out, error) => pages.error(ctx, out, error),
    discovery: { service_documentation: `${config.issuer}/docs`, ui_locales_supported: ['ru', 'en'], claims_locales_supported: ['ru'] },
  };
}

export function createProvider(deps: ProviderDependencies): Provider {
  const provider = new Provider(deps.config.issuer, providerConfiguration(deps));
  provider.proxy = deps.config.trustProxy;
  return provider;
}
