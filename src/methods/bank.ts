/**
 * Sign-in through a bank (DESIGN §2, §4): each configured bank is an upstream OpenID Connect
 * provider and vkhod is its client (openid-client v6). `start` builds the authorization request
 * (state, nonce, PKCE S256); `finish` checks the response (state, issuer, nonce, ID token) and
 * turns the bank's claims into an ExternalProfile with the same validators as typed data.
 */
import { importJWK } from 'jose';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import type { BankConfig, BankClaimField } from '../../config/federation.ts';
import { normalizeEmail, normalizePhone } from '../accounts/contacts.ts';
import { parseDate } from '../accounts/dates.ts';
import { confirmable, profileItems, type ExternalProfile } from '../accounts/external-identity.ts';
import type { ExternalVerification } from '../accounts/linked-identities.ts';
import { normalizeInn } from '../accounts/inn.ts';
import { checkName } from '../accounts/names.ts';
import { normalizeDepartmentCode, normalizePassportNumber, normalizePassportSeries, passportKey } from '../accounts/passport.ts';
import { normalizeSnils } from '../accounts/snils.ts';

export type BankProblem =
  | 'unknown_bank'
  /** the bank does not answer, answers with a server error, or too slowly */
  | 'unavailable'
  /** the citizen said no at the bank */
  | 'cancelled'
  /** a response that fails a check: state, issuer, nonce, signature, an OAuth error */
  | 'invalid_response';

export class BankError extends Error {
  constructor(
    readonly code: BankProblem,
    /** for the log, never for the page */
    readonly detail?: string,
  ) {
    super(`${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'BankError';
  }
}

/** What a started bank sign-in must remember until the citizen comes back. */
export interface BankRequest {
  bankId: string;
  url: string;
  state: string;
  nonce: string;
  verifier: string;
}

/** Who the bank says this is. */
export interface BankIdentity {
  bank: BankConfig;
  subject: string;
  profile: ExternalProfile;
  /** names of the claims the bank released (the evidence of a confirmation) */
  claimNames: string[];
}

const DISCOVERY_TTL_MS = 3600_000;

/** RFC 8176: the sign-in was made at another provider. */
export const FED_AMR = 'fed';

/** The evidence an accredited bank's confirmation is kept with. */
export function bankVerification(identity: BankIdentity): ExternalVerification {
  return {
    method: 'bank',
    actor: `bank:${identity.bank.id}`,
    evidence: { type: 'bank', bank: identity.bank.id, subject: identity.subject, claims: identity.claimNames },
    items: profileItems(identity.profile),
  };
}

/** The verification the bank's data earns: only an accredited bank, only with enough data. */
export function earnedVerification(identity: BankIdentity): ExternalVerification | undefined {
  return identity.bank.accredited && confirmable(identity.profile) ? bankVerification(identity) : undefined;
}

function pathValue(claims: Record<string, unknown>, path: string): unknown {
  let node: unknown = claims;
  for (const part of path.split('.')) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() && value.length <= 300 ? value.trim() : undefined;
}

/** The bank's claims → an ExternalProfile; anything missing or malformed is left out. */
export function profileFromClaims(claims: Record<string, unknown>, paths: Record<BankClaimField, string>): ExternalProfile {
  const get = (field: BankClaimField) => text(pathValue(claims, paths[field]));
  const flag = (field: BankClaimField) => {
    const v = pathValue(claims, paths[field]);
    return v === true || v === 'true';
  };
  const profile: ExternalProfile = {};
  const family = checkName(get('family_name'), true).value;
  const given = checkName(get('given_name'), true).value;
  const middle = checkName(get('middle_name'), false);
  if (family && given && !middle.problem) profile.name = { family, given, ...(middle.value ? { middle: middle.value } : {}) };
  const birth = parseDate(get('birthdate'));
  if (birth) profile.birthDate = birth;
  const snils = normalizeSnils(get('snils') ?? '');
  if (snils) profile.snils = snils;
  const inn = normalizeInn(get('inn') ?? '');
  if (inn) profile.inn = inn;
  const series = normalizePassportSeries(get('passport_series') ?? '');
  const number = normalizePassportNumber(get('passport_number') ?? '');
  if (series && number) {
    profile.passportKey = passportKey(series, number);
    const issueDate = parseDate(get('passport_issue_date'));
    const issuer = get('passport_issuer')?.replace(/\s+/g, ' ').slice(0, 200);
    const departmentCode = normalizeDepartmentCode(get('passport_department_code') ?? '');
    if (issueDate && issuer && departmentCode) profile.passport = { series, number, issueDate, issuer, departmentCode };
  }
  const phone = normalizePhone(get('phone') ?? '');
  if (phone) profile.phone = { value: phone, verified: flag('phone_verified') };
  const email = normalizeEmail(get('email') ?? '');
  if (email) profile.email = { value: email, verified: flag('email_verified') };
  return profile;
}

/** openid-client's errors → what the citizen is told. */
export function classifyBankError(err: unknown): BankError {
  if (err instanceof BankError) return err;
  if (err instanceof oidc.AuthorizationResponseError) {
    if (err.error === 'access_denied') return new BankError('cancelled', err.error);
    if (err.error === 'temporarily_unavailable' || err.error === 'server_error') return new BankError('unavailable', err.error);
    return new BankError('invalid_response', err.error);
  }
  if (err instanceof oidc.ResponseBodyError) return new BankError(err.status >= 500 ? 'unavailable' : 'invalid_response', err.error);
  const code = (err as { code?: string }).code;
  if (
    code === 'OAUTH_TIMEOUT' ||
    code === 'OAUTH_ABORT' ||
    code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' ||
    code === 'OAUTH_RESPONSE_IS_NOT_JSON'
  )
    return new BankError('unavailable', code);
  // fetch() itself failed: refused, reset, DNS, TLS.
  if (err instanceof TypeError && (err as { cause?: unknown }).cause)
    return new BankError('unavailable', String((err.cause as Error).message ?? err.cause));
  return new BankError('invalid_response', code ?? (err as Error)?.message ?? String(err));
}

export class BankMethod {
  private readonly discovered = new Map<string, { config: oidc.Configuration; at: number }>();

  constructor(
    private readonly banks: BankConfig[],
    /** {issuer}/federation/callback: the same for every bank */
    readonly redirectUri: string,
    private readonly logger: Logger,
  ) {}

  list(): BankConfig[] {
    return this.banks;
  }

  find(id: string): BankConfig | undefined {
    return this.banks.find((b) => b.id === id);
  }

  private async clientAuth(bank: BankConfig): Promise<oidc.ClientAuth> {
    if (bank.token_endpoint_auth_method === 'private_key_jwt') {
      const jwk = bank.private_key_jwk!;
      const key = (await importJWK(jwk as never, jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : 'RS256'))) as CryptoKey;
      return oidc.PrivateKeyJwt({ key, kid: jwk.kid });
    }
    return bank.token_endpoint_auth_method === 'client_secret_post'
      ? oidc.ClientSecretPost(bank.client_secret)
      : oidc.ClientSecretBasic(bank.client_secret);
  }

  /** The bank's metadata, discovered once an hour (and again after a failure). */
  private async configuration(bank: BankConfig): Promise<oidc.Configuration> {
    const cached = this.discovered.get(bank.id);
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.config;
    try {
      const config = await oidc.discovery(
        new URL(bank.issuer),
        bank.client_id,
        bank.client_secret ? { client_secret: bank.client_secret } : undefined,
        await this.clientAuth(bank),
        {
          timeout: bank.timeout_seconds,
          // Plain http only for a bank on this machine (the development bank); https everywhere else.
          execute: bank.issuer.startsWith('http://') ? [oidc.allowInsecureRequests] : [],
        },
      );
      this.discovered.set(bank.id, { config, at: Date.now() });
      return config;
    } catch (err) {
      throw classifyBankError(err);
    }
  }

  /** Discovers the bank and builds the authorization request to send the browser to. */
  async start(bankId: string, uiLocale?: string): Promise<BankRequest> {
    const bank = this.find(bankId);
    if (!bank) throw new BankError('unknown_bank');
    const config = await this.configuration(bank);
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      response_type: 'code',
      scope: bank.scope,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(uiLocale ? { ui_locales: uiLocale } : {}),
    });
    return { bankId, url: url.href, state, nonce, verifier };
  }

  /**
   * Checks the response the bank sent the browser back with (`query`: the callback's query
   * string), redeems the code and reads who it is.
   */
  async finish(request: Omit<BankRequest, 'url'>, query: string): Promise<BankIdentity> {
    const bank = this.find(request.bankId);
    if (!bank) throw new BankError('unknown_bank');
    try {
      const config = await this.configuration(bank);
      const current = new URL(`${this.redirectUri}?${query}`);
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        expectedState: request.state,
        expectedNonce: request.nonce,
        pkceCodeVerifier: request.verifier,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      let claims: Record<string, unknown> = { ...idClaims };
      if (bank.userinfo && config.serverMetadata().userinfo_endpoint) {
        claims = { ...claims, ...(await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)) };
      }
      const reserved = new Set([
        'iss',
        'aud',
        'exp',
        'iat',
        'nbf',
        'nonce',
        'at_hash',
        'c_hash',
        'azp',
        'auth_time',
        'acr',
        'amr',
        'sid',
        'jti',
      ]);
      return {
        bank,
        subject: idClaims.sub,
        profile: profileFromClaims(claims, bank.claims),
        claimNames: Object.keys(claims)
          .filter((k) => !reserved.has(k))
          .sort(),
      };
    } catch (err) {
      const problem = classifyBankError(err);
      if (problem.code === 'unavailable') this.discovered.delete(bank.id);
      this.logger.warn({ bank: bank.id, problem: problem.code, detail: problem.detail }, 'bank sign-in failed');
      throw problem;
    }
  }
}
