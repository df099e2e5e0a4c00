/**
 * node-oidc-provider's configuration as a pure function of vkhod's dependencies, and the
 * provider built from it. This is the only module that configures node-oidc-provider.
 */
import Provider, {
  errors,
  interactionPolicy,
  type Configuration,
  type KoaContextWithOIDC,
  type UnknownObject,
  type ErrorOut,
} from 'oidc-provider';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../../config/load.ts';
import { clientSchema, type ClientMetadata } from '../../config/clients.ts';
import type { Accounts } from '../accounts/accounts.ts';
import { DEVICE_CODE_LIMITS } from '../security/limits.ts';
import { StoreUnavailableError, type Store } from '../store.ts';
import { ACR_VALUES, chooseAcr, requestedAcrs, satisfiedAcrs, tokenAcrHolds } from './acr.ts';
import { autoSubmitPages, type AutoSubmitForm } from './auto-submit.ts';
import {
  accountClaims,
  checkPurpose,
  parseClaimsParameter,
  claimsInVerifiedClaimsRequest,
  DEFAULT_CLIENT_SCOPE,
  identityAssuranceMetadata,
  releasableClaims,
  SCOPE_CLAIMS,
  SCOPES,
  verifiedClaimsRequest,
  ClaimsRequestError,
  type VerifiedClaimsRequest,
} from './claims.ts';
import { legacyConsent, rememberedConsent } from './consents.ts';
import { oneTimeAdapter } from './one-time.ts';
import { RefreshGrace } from './refresh-grace.ts';
import { useMachineScopeGrant } from './client-credentials.ts';
import { authorizationRequestChecks } from './request-checks.ts';
import { DEVICE_CODE_GRANT, standardErrorCodes } from './error-codes.ts';
import { auditProviderEvents } from './security-events.ts';
import type { AuditInput } from '../security/audit.ts';
import type { ClientRegistry } from './clients.ts';
import type { LiveSigningKeys } from './live-keys.ts';
import { machineScopeProblem, unknownScopes } from './scope-names.ts';

/** The pages node-oidc-provider renders itself, drawn by vkhod's views. */
export interface ProviderPages {
  error(ctx: KoaContextWithOIDC, out: ErrorOut, error: Error): Promise<void>;
  logout(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  loggedOut(ctx: KoaContextWithOIDC): Promise<void>;
  /** Device authorization grant (RFC 8628): the page where the citizen types the code a device shows. */
  deviceCodeInput(ctx: KoaContextWithOIDC, entry: DeviceCodeEntry, error?: DeviceCodeProblem): Promise<void>;
  /** The code was found: which service and device asks, confirm or refuse. */
  deviceCodeConfirm(ctx: KoaContextWithOIDC, entry: DeviceCodeEntry, request: DeviceRequest): Promise<void>;
  /** Signed in and consented: the device gets its tokens at its next poll. */
  deviceSuccess(ctx: KoaContextWithOIDC): Promise<void>;
  /** The provider's self-posting form (form_post, a device code link, a sign-out), drawn again (auto-submit.ts). */
  autoSubmit(ctx: KoaContextWithOIDC, form: AutoSubmitForm): void;
}

/** The provider's own form for a user code, as fields: its action, `xsrf` token and the code typed. */
export interface DeviceCodeEntry {
  action: string;
  xsrf: string;
  userCode?: string;
}

/** Why the code page is shown again: node-oidc-provider's re-render errors, named. */
export type DeviceCodeProblem = 'not_found' | 'expired' | 'already_used' | 'aborted' | 'no_code' | 'other';

/** What the confirm page shows of a device's request. */
export interface DeviceRequest {
  clientName: string;
  userCode: string;
  /** the device's address and User-Agent when it asked (node-oidc-provider's `deviceInfo`) */
  deviceIp?: string;
  deviceUserAgent?: string;
}

/** The user-code format: digits (a Russian keyboard needs no layout switch), 9 of them — 10⁹ codes. */
export const USER_CODE_MASK = '***-***-***';

/** The interval (seconds) a device must leave between polls; polling faster gets `slow_down`. */
export const DEVICE_POLL_INTERVAL = DEVICE_CODE_LIMITS.pollInterval;

const PROBLEMS: Record<string, DeviceCodeProblem> = {
  NotFoundError: 'not_found',
  ExpiredError: 'expired',
  AlreadyUsedError: 'already_used',
  AbortedError: 'aborted',
  NoCodeError: 'no_code',
};

/** The fields of node-oidc-provider's user-code form (its markup is replaced by vkhod's page). */
function deviceCodeEntry(form: string): DeviceCodeEntry {
  const field = (name: string) => form.match(new RegExp(`name="${name}"[^>]*?value="([^"]*)"|value="([^"]*)"[^>]*?name="${name}"`));
  const value = (name: string) => {
    const m = field(name);
    return m ? decodeHtml(m[1] ?? m[2] ?? '') : undefined;
  };
  return { action: decodeHtml(form.match(/action="([^"]*)"/)?.[1] ?? '/device'), xsrf: value('xsrf') ?? '', userCode: value('user_code') };
}

function decodeHtml(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|#39|#x27);/g,
    (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e]!,
  );
}

export interface ProviderDependencies {
  config: Config;
  store: Store;
  accounts: Accounts;
  clients: ClientMetadata[];
  /** vkhod's own clients (the cabinet): no consent screen, `openid` granted on sign-in. */
  firstPartyClients: string[];
  jwks: { keys: object[] };
  cookieKeys: string[];
  pages: ProviderPages;
  /**
   * Counts one poll of a device code (key: its hash) and says whether it came sooner than
   * DEVICE_POLL_INTERVAL after the last one; such a poll is answered `slow_down` (RFC 8628 §3.5).
   */
  devicePollTooSoon?: (key: string) => Promise<boolean>;
  /** Counts a service entered by single sign-on (key: account and client); says whether to record it (SSO_USE_RECORD_SECONDS). */
  ssoUseToRecord?: (key: string) => Promise<boolean>;
  /** The refresh-token reuse grace; createProvider builds one (its response step is provider middleware). */
  refreshGrace?: RefreshGrace;
  /** Relying parties kept in the store (issue 14): loaded through the adapter's `Client` model. */
  clientRegistry?: ClientRegistry;
  /** Signing keys that follow the store (issue 14): the provider's keystore is rebuilt when they change. */
  liveKeys?: LiveSigningKeys;
}

/** Where node-oidc-provider sends the browser for an interaction; flows are mounted there. */
export const interactionPath = (uid: string) => `/interaction/${uid}`;

/**
 * The login prompt, plus one check: a request whose acr values the current session does not
 * satisfy goes through the interaction again (step-up, or a silent re-issue with the right acr).
 * The session's acr must also still hold for the account as it is now: an account whose level
 * dropped (verified data changed) never gets a token with the acr it had at sign-in.
 */
function interactions(accounts: Accounts): Configuration['interactions'] {
  const { base, Check } = interactionPolicy;
  const policy = base();
  policy.get('login')!.checks.add(
    // login_required (like node-oidc-provider's own acr checks): prompt=none cannot step up.
    new Check('acr_not_satisfied', 'the session does not satisfy the requested acr values', 'login_required', async (ctx) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
      const requested = requestedAcrs(oidc.params as Record<string, unknown>);
      const account = await accounts.findActiveOnce(ctx.req, oidc.session.accountId);
      if (!account) return Check.NO_NEED_TO_PROMPT;
      const satisfied = satisfiedAcrs(account.level, (oidc.session.amr as string[] | undefined) ?? []);
      // The highest value asked for (any, when none is: DESIGN §3) that the session satisfies now —
      // whatever another service's request left as the session's acr (the ID token's acr is the
      // session's), and also when the account's level dropped since: signing in again with the same
      // factors on the account as it is would earn the same. None of them: sign in (or step up).
      const best = chooseAcr(requested, satisfied);
      if (!best) return requested.length ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      oidc.session.acr = best;
      return Check.NO_NEED_TO_PROMPT;
    }),
  );
  policy.get('consent')!.checks.add(
    // OIDC4IDA: a claim asked for inside verified_claims is released only with the citizen's
    // consent to it — by a granted scope that releases it, or one by one (consent.ts adds it).
    new Check(
      'verified_claims_missing',
      'requested verified claims not granted',
      'consent_required',
      (ctx) => {
        const { oidc } = ctx;
        // The scopes this request's tokens will carry — those it asks for (granted already, or by the
        // same consent: it grants all or nothing) — are what the release reads; a scope granted earlier
        // but not asked for now covers nothing, and one asked for now is not asked for twice.
        const granted = releasableClaims(oidc.requestParamOIDCScopes, oidc.grant!.getOIDCClaims());
        const missing = claimsInVerifiedClaimsRequest(parseClaimsParameter(oidc.params?.claims)).filter((name) => !granted.has(name));
        if (!missing.length) return Check.NO_NEED_TO_PROMPT;
        (oidc as unknown as Record<symbol, unknown>)[MISSING_VERIFIED] = missing;
        return Check.REQUEST_PROMPT;
      },
      (ctx) => ({ missingVerifiedClaims: (ctx.oidc as unknown as Record<symbol, unknown>)[MISSING_VERIFIED] }),
    ),
  );
  return { policy, url: (_ctx, interaction) => interactionPath(interaction.uid) };
}

const MISSING_VERIFIED = Symbol('missingVerifiedClaims');

/**
 * Introspection answers `active: false` for a token whose acr the account no longer satisfies
 * (its level dropped since the sign-in): a resource server never acts on a stronger assurance than
 * holds now. Access tokens carry the acr in `extra` (extraTokenClaims), refresh tokens directly.
 */
async function tokenAcrStillHolds(
  accounts: Accounts,
  token: { accountId?: string; acr?: unknown; amr?: unknown; extra?: Record<string, unknown> },
): Promise<boolean> {
  if (!token.accountId) return true;
  const account = await accounts.findActive(token.accountId);
  return account ? tokenAcrHolds(account.level, token) : false;
}

/**
 * The ID token always says how the citizen signed in: node-oidc-provider only releases claims
 * that a granted scope (or an explicit request) names, so acr, amr and auth_time ride on openid.
 */
const PROVIDER_CLAIMS: Record<string, string[]> = { ...SCOPE_CLAIMS, openid: [...SCOPE_CLAIMS.openid!, 'acr', 'amr', 'auth_time'] };

/**
 * A client that never uses the authorization endpoint (client_credentials only) has no response
 * types; otherwise the default `code` makes node-oidc-provider demand redirect_uris and refuse it.
 */
export function providerClient(client: ClientMetadata): ClientMetadata {
  assertClientScopes(client);
  const withScope = { ...client, scope: client.scope ?? DEFAULT_CLIENT_SCOPE };
  if (client.response_types === undefined && !client.grant_types?.includes('authorization_code'))
    return { ...withScope, response_types: [] };
  return withScope;
}

/**
 * A registration names only scopes vkhod knows (a typo would otherwise be dropped silently at
 * every request) and machine scopes that are resource names, not a citizen's scopes.
 */
function assertClientScopes(client: ClientMetadata): void {
  const unknown = unknownScopes(client.scope);
  if (unknown.length) throw new Error(`client ${client.client_id}: unknown scope ${unknown.join(', ')} (known: ${SCOPES.join(' ')})`);
  for (const scope of String(client.vkhod_machine_scope ?? '')
    .split(' ')
    .filter(Boolean)) {
    const problem = machineScopeProblem(scope);
    if (problem) throw new Error(`client ${client.client_id}: vkhod_machine_scope ${problem}`);
  }
}

/**
 * PKCE for every client (OAuth 2.1, RFC 9700 §2.1.1); a confidential client registered with
 * `vkhod_pkce_optional: true` (a legacy relying party that cannot send it) may leave it out.
 */
function pkceRequired(_ctx: unknown, client: { clientAuthMethod?: string }): boolean {
  return client.clientAuthMethod === 'none' || (client as unknown as Record<string, unknown>).vkhod_pkce_optional !== true;
}

/** Claims any client may ask for by name: they describe the sign-in, not the person. */
const ALWAYS_ALLOWED = new Set([...(PROVIDER_CLAIMS.openid ?? []), 'sid', 'iss']);

/**
 * The `claims` parameter cannot reach past the client's registered scopes: a claim that only a
 * scope the client may not ask for releases is refused, like the scope itself would be.
 */
async function claimsWithinClientScope(_ctx: unknown, claims: Record<string, unknown>, client: { scope?: string }): Promise<void> {
  const allowed = new Set((client.scope ?? DEFAULT_CLIENT_SCOPE).split(' '));
  for (const container of ['userinfo', 'id_token'] as const) {
    const requested = claims[container];
    if (requested === undefined) continue;
    if (requested === null || typeof requested !== 'object' || Array.isArray(requested))
      throw new errors.InvalidRequest(`claims.${container} must be an object`);
    for (const [name, value] of Object.entries(requested)) {
      if (name === 'verified_claims') {
        // OIDC4IDA: the claims asked for inside count like claims asked for by name
        for (const inner of Object.keys(readVerifiedClaimsRequest(value)?.claims ?? {})) withinScope(inner, allowed);
      } else if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
        throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
      } else if (value !== null) {
        asInvalidRequest(() => checkPurpose(`claims.${container}.${name}`, value as Record<string, unknown>));
      }
      withinScope(name, allowed);
    }
  }
}

/** Each claim's scopes, once (read for every claim of every userinfo answer and ID token). */
const CLAIM_SCOPES = new Map<string, string[]>();
for (const [scope, names] of Object.entries(SCOPE_CLAIMS))
  for (const name of names) CLAIM_SCOPES.set(name, [...(CLAIM_SCOPES.get(name) ?? []), scope]);

/** The scopes that release the claim (none: a claim no scope governs). */
const scopesOf = (claim: string): string[] => CLAIM_SCOPES.get(claim) ?? [];

/** Whether a client registered for `allowed` may have the claim by name. */
function claimWithinScopes(claim: string, allowed: ReadonlySet<string>): boolean {
  if (ALWAYS_ALLOWED.has(claim)) return true;
  const scopes = scopesOf(claim);
  return !scopes.length || scopes.some((scope) => allowed.has(scope));
}

function withinScope(claim: string, allowed: ReadonlySet<string>): void {
  if (!claimWithinScopes(claim, allowed))
    throw new errors.InvalidRequest(`claim ${claim} needs a scope this client is not registered for (${scopesOf(claim).join(' or ')})`);
}

function readVerifiedClaimsRequest(value: unknown): VerifiedClaimsRequest | undefined {
  return asInvalidRequest(() => verifiedClaimsRequest(value));
}

/** A claims request that cannot be read: invalid_request, with what is wrong, at the redirect_uri. */
function asInvalidRequest<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ClaimsRequestError) throw new errors.InvalidRequest(error.message);
    throw error;
  }
}

/** node-oidc-provider's cookies (its session, interaction and resume cookies): signed, not for scripts, sent on top-level navigations. */
const SIGNED_COOKIE = { httpOnly: true, sameSite: 'lax', signed: true } as const;

/**
 * One grant per sign-in (DESIGN §3): the grant this session already holds for the client, else a
 * fresh one built from the consent remembered on the account (consents.ts) — never a grant
 * shared with the account's other sessions. Without a remembered consent there is no grant and
 * node-oidc-provider asks for consent.
 */
async function loadSignInGrant(ctx: KoaContextWithOIDC, deps: ProviderDependencies): Promise<InstanceType<Provider['Grant']> | undefined> {
  const { oidc } = ctx;
  const clientId = oidc.client!.clientId;
  const accountId = oidc.session!.accountId;
  if (!accountId) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(clientId);
  if (grantId) {
    const grant = await oidc.provider.Grant.find(grantId);
    if (grant && grant.accountId === accountId && grant.clientId === clientId) return grant;
    // revoked (a replayed code, the service revoked a token): this sign-in starts a new one below
  }
  const grant = new oidc.provider.Grant({ accountId, clientId });
  if (deps.firstPartyClients.includes(clientId)) {
    grant.addOIDCScope('openid');
  } else {
    const account = await deps.accounts.findActiveOnce(ctx.req, accountId);
    const consent =
      account && (rememberedConsent(account, clientId) ?? (await legacyConsent(account, clientId, (id) => oidc.provider.Grant.find(id))));
    if (!consent) return undefined;
    if (consent.scopes.length) grant.addOIDCScope(consent.scopes.join(' '));
    if (consent.claims.length) grant.addOIDCClaims(consent.claims);
  }
  await grant.save();
  return grant;
}

export function providerConfiguration(deps: ProviderDependencies): Configuration {
  const { config, store, accounts, pages } = deps;
  const grace = deps.refreshGrace ?? new RefreshGrace(store, config.ttl.refreshReuseGrace);
  return {
    // Single-use artefacts are consumed by a conditional write; the loser gets a replay's answer.
    adapter: (name: string) =>
      name === 'Client' && deps.clientRegistry
        ? deps.clientRegistry.providerAdapter((metadata) => providerClient(metadata as ClientMetadata))
        : oneTimeAdapter(store, name, grace),
    clients: deps.clients.map(providerClient) as Configuration['clients'],
    extraClientMetadata: {
      properties: ['vkhod_resource_server', 'vkhod_esia_compat', 'vkhod_pkce_optional', 'vkhod_machine_scope'],
      validator(_ctx, key, value) {
        if (key === 'vkhod_machine_scope') {
          if (value !== undefined && typeof value !== 'string') throw new Error(`${key} must be a space-separated string`);
        } else if (value !== undefined && typeof value !== 'boolean') throw new Error(`${key} must be a boolean`);
      },
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    responseTypes: ['code', 'none'],
    scopes: SCOPES,
    claims: PROVIDER_CLAIMS,
    acrValues: [...ACR_VALUES],
    jwks: deps.jwks as Configuration['jwks'],
    cookies: {
      keys: deps.cookieKeys,
      names: { session: 'vkhod.session', interaction: 'vkhod.interaction', resume: 'vkhod.resume' },
      long: { ...SIGNED_COOKIE },
      short: { ...SIGNED_COOKIE },
    },
    pkce: { required: pkceRequired },
    extraParams: authorizationRequestChecks as unknown as Configuration['extraParams'],
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true, assertClaimsParameter: claimsWithinClientScope as never },
      clientCredentials: { enabled: true },
      // A client introspects its own tokens; a resource server (registered with
      // `vkhod_resource_server: true`) introspects any token presented to it — inactive once the
      // client it was issued to is disabled or deleted (issue 14).
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) =>
          (token.clientId === client.clientId ||
            ((client as unknown as Record<string, unknown>).vkhod_resource_server === true &&
              (await ctx.oidc.provider.Client.find(String(token.clientId))) !== undefined)) &&
          (await tokenAcrStillHolds(accounts, token as never)),
      },
      // Only the client a token was issued to may revoke it (RFC 7009 §2.1).
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      // RFC 8628 for devices without a browser (TVs, kiosks): a client registered with the
      // urn:ietf:params:oauth:grant-type:device_code grant; the citizen enters the code at /device.
      deviceFlow: {
        enabled: true,
        charset: 'digits',
        mask: USER_CODE_MASK,
        userCodeInputSource: (ctx, form, _out, err) =>
          pages.deviceCodeInput(ctx, deviceCodeEntry(form), err ? (PROBLEMS[err.name] ?? 'other') : undefined),
        userCodeConfirmSource: (ctx, form, client, deviceInfo, userCode) =>
          pages.deviceCodeConfirm(ctx, deviceCodeEntry(form), {
            clientName: client.clientName ?? client.clientId,
            userCode,
            deviceIp: typeof deviceInfo?.ip === 'string' ? deviceInfo.ip : undefined,
            deviceUserAgent: typeof deviceInfo?.ua === 'string' ? deviceInfo.ua : undefined,
          }),
        successSource: (ctx) => pages.deviceSuccess(ctx),
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => pages.logout(ctx, form),
        postLogoutSuccessSource: (ctx) => pages.loggedOut(ctx),
      },
    },
    interactions: interactions(accounts),
    // Introspection of an access token says how the sign-in behind it was made (DESIGN §3):
    // acr and amr of the code or refresh token it was issued for, never of a later session.
    extraTokenClaims(ctx, token) {
      if (token.kind !== 'AccessToken') return undefined;
      const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
      return source?.acr ? { acr: source.acr, ...(source.amr ? { amr: source.amr } : {}) } : undefined;
    },
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
    async findAccount(ctx, sub, token) {
      // once per request: the provider asks for the account several times while it resumes a sign-in
      const account = ctx ? await accounts.findActiveOnce(ctx.req, sub) : await accounts.findActive(sub);
      if (!account) return undefined;
      // Tokens issued before a password reset are dead even if a copy survived revocation.
      const issuedAt = (token as { iat?: number } | undefined)?.iat;
      if (issuedAt && account.sessionsValidAfter && issuedAt * 1000 < Date.parse(account.sessionsValidAfter) - 1000) return undefined;
      // A code, refresh or access token carries the acr of its sign-in: once the account no longer
      // satisfies it (the level dropped since), it gets nothing — invalid_grant at the token endpoint,
      // invalid_token at userinfo (as introspection says inactive) — never a new ID token with that acr.
      if (token && !tokenAcrHolds(account.level, token as never)) return undefined;
      const client = ctx?.oidc?.client as unknown as Record<string, unknown> | undefined;
      const esiaCompat = client?.vkhod_esia_compat === true;
      // What the client is registered for now: a registration narrowed since (an admin took `snils`
      // away) narrows what its earlier tokens and grants release, at once — not when they expire.
      const registered = client ? new Set(String(client.scope ?? DEFAULT_CLIENT_SCOPE).split(' ')) : undefined;
      return {
        accountId: account.id,
        // `requested`: the claims parameter's members for this target that the grant allows
        claims: async (_use, scope, requested) => {
          const claims = accountClaims(
            account,
            new Set(
              String(scope ?? '')
                .split(' ')
                .filter((s) => !registered || registered.has(s)),
            ),
            {
              esiaOid: esiaCompat ? await store.esia.oidOf(account.id) : undefined,
              verifiedRequest: (requested as Record<string, unknown> | undefined)?.verified_claims,
              grantedClaims: (ctx?.oidc?.grant?.getOIDCClaims() ?? []).filter(
                (claim) => !registered || claimWithinScopes(claim, registered),
              ),
            },
          );
          const allowed = registered && Object.entries(claims).filter(([name]) => claimWithinScopes(name, registered));
          return (allowed ? Object.fromEntries(allowed) : claims) as { sub: string } & UnknownObject;
        },
      };
    },
    loadExistingGrant: (ctx) => loadSignInGrant(ctx, deps),
    renderError: (ctx, out, error) => pages.error(ctx, out, error),
    discovery: { ui_locales_supported: ['ru', 'en'], claims_locales_supported: ['ru'], ...identityAssuranceMetadata() },
  };
}

/**
 * RFC 8628 §3.2/§3.5, which node-oidc-provider leaves to the deployment: the device authorization
 * response names the polling interval, and a device that polls a pending code faster gets
 * `slow_down` instead of `authorization_pending` (it must then add 5 seconds). Only a pending
 * answer is rewritten — a poll that gets tokens or a final error is never held back.
 */
function devicePollPace(tooSoon: ProviderDependencies['devicePollTooSoon']) {
  // After every provider request: the common case (no device code involved) adds no await.
  const pace = async (ctx: KoaContextWithOIDC, deviceCode: string): Promise<void> => {
    if (await tooSoon!(createHash('sha256').update(deviceCode).digest('base64url'))) {
      ctx.body = { error: 'slow_down', error_description: `poll at most once every ${DEVICE_POLL_INTERVAL} seconds` };
    }
  };
  const after = (ctx: KoaContextWithOIDC): Promise<void> | undefined => {
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return undefined;
    if (ctx.oidc?.route === 'device_authorization' && typeof body.device_code === 'string') {
      body.interval = DEVICE_POLL_INTERVAL;
      return undefined;
    }
    const params = ctx.oidc?.params as Record<string, unknown> | undefined;
    if (!tooSoon || ctx.oidc?.route !== 'token' || params?.grant_type !== DEVICE_CODE_GRANT) return undefined;
    if (body.error !== 'authorization_pending' || typeof params.device_code !== 'string') return undefined;
    return pace(ctx, params.device_code);
  };
  return (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => next().then(() => after(ctx));
}

export function createProvider(
  deps: ProviderDependencies & {
    logger?: Logger;
    /** issue 14: replays, reuse, revocations, sign-outs */ audit?: (input: AuditInput) => Promise<unknown>;
  },
): Provider {
  const refreshGrace = deps.refreshGrace ?? new RefreshGrace(deps.store, deps.config.ttl.refreshReuseGrace);
  const provider = new Provider(deps.config.issuer, providerConfiguration({ ...deps, refreshGrace }));
  provider.use(refreshGrace.responseMiddleware);
  retryAfterOfStoreOutages(provider);
  // Errors inside node-oidc-provider's own endpoints answer `server_error` and are logged here.
  provider.on('server_error', (_ctx: unknown, err: Error) => deps.logger?.error({ err }, 'oidc server_error'));
  provider.proxy = deps.config.trustProxy;
  useMachineScopeGrant(provider);
  if (deps.audit)
    auditProviderEvents(provider, deps.audit, { firstPartyClients: deps.firstPartyClients, ssoUseToRecord: deps.ssoUseToRecord });
  deps.clientRegistry?.installSecretCheck(provider);
  deps.clientRegistry?.installClientReuse(provider);
  if (deps.liveKeys) {
    deps.liveKeys.attach(provider);
    provider.use(deps.liveKeys.middleware());
  }
  provider.use(devicePollPace(deps.devicePollTooSoon));
  provider.use(standardErrorCodes);
  provider.use(autoSubmitPages((ctx, form) => deps.pages.autoSubmit(ctx, form)));
  storeNewSessionsOnPersist(provider, deps.config.ttl.session);
  return provider;
}

/**
 * node-oidc-provider answers a store outage (StoreUnavailableError, 503) itself and tells of it only
 * in its `<endpoint>.error` event: the wait the outage asks for (30 s for a full disk or an I/O
 * error, 1 s for a busy lock) goes on that answer here, before it is sent — errors.ts's fallback for a
 * 503 without one says 1.
 */
function retryAfterOfStoreOutages(provider: Provider): void {
  const emit = provider.emit.bind(provider);
  provider.emit = ((event: string | symbol, ...args: unknown[]) => {
    const [ctx, err] = args as [{ set?: (name: string, value: string) => void } | undefined, unknown];
    if (err instanceof StoreUnavailableError) ctx?.set?.('retry-after', String(err.retryAfter));
    return emit(event, ...args);
  }) as typeof provider.emit;
}

/**
 * node-oidc-provider 9 stores a session touched during a request at the end of it with
 * `persist()`, which throws for a session that was never stored. Its own session middleware
 * stores new sessions first — except when the request failed inside it and the error page then
 * touched a new session: the code-entry form (`POST /device`) from a browser whose session cookie
 * is gone or forged is re-drawn with a new form secret, and the request ended in a 500. Such a
 * session is stored here as the middleware stores a new one (its lifetime, its cookie), so the
 * re-drawn form works when the citizen sends it again.
 */
function storeNewSessionsOnPersist(provider: Provider, ttlSeconds: number): void {
  type SessionLike = { exp?: unknown; id: string; save(ttl: number): Promise<unknown>; persist(): Promise<unknown> };
  const prototype = provider.Session.prototype as unknown as SessionLike;
  const persist = prototype.persist;
  prototype.persist = function persistOrStore(this: SessionLike) {
    if (typeof this.exp === 'number') return persist.call(this);
    Provider.ctx?.oidc.cookies.set(provider.cookieName('session'), this.id, { ...SIGNED_COOKIE });
    return this.save(ttlSeconds);
  };
}

/**
 * The check a client registration passes before it is stored (issue 14): vkhod's scope rules, then
 * node-oidc-provider's own validation of the metadata, so a bad registration is refused when it is
 * made rather than failing at its first use. A field neither knows is refused too: the provider
 * would drop it without a word, and a misspelt `post_logout_redirect_uri` would surface only when
 * the service's sign-out fails.
 */
export function clientMetadataValidator(provider: Provider): (metadata: Record<string, unknown>) => Promise<void> {
  const vkhodFields = Object.keys(clientSchema.shape);
  return async (metadata) => {
    const client = providerClient(metadata as ClientMetadata);
    await provider.Client.validate(client as never);
    // The provider's client keeps exactly the metadata it recognises in this configuration.
    const ProviderClient = provider.Client as unknown as new (metadata: unknown) => { metadata(): Record<string, unknown> };
    const known = new Set([...vkhodFields, ...Object.keys(new ProviderClient(client).metadata())]);
    const unknown = Object.keys(metadata).filter((field) => !known.has(field));
    if (unknown.length)
      throw new Error(`unknown client metadata ${unknown.map((f) => JSON.stringify(f.slice(0, 64))).join(', ')}: check the spelling`);
  };
}
