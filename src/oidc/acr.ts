/**
 * Assurance to relying parties (DESIGN §3): the account level and the strength of this sign-in
 * combined into one acr value; amr per RFC 8176.
 */
import type { AccountLevel } from '../accounts/account.ts';

export const ACR_PREFIX = 'urn:vkhod:loa:';

/** Weakest first: a higher index satisfies everything below it of the same or lower level. */
export const ACR_VALUES = [
  `${ACR_PREFIX}simplified`,
  `${ACR_PREFIX}simplified-mfa`,
  `${ACR_PREFIX}standard`,
  `${ACR_PREFIX}standard-mfa`,
  `${ACR_PREFIX}confirmed`,
  `${ACR_PREFIX}confirmed-mfa`,
] as const;

export type Acr = (typeof ACR_VALUES)[number];

const LEVEL_RANK: Record<AccountLevel, number> = { simplified: 0, standard: 1, confirmed: 2 };

const SECOND_FACTORS = new Set(['sms', 'otp', 'hwk', 'swk']);
/** Stands for any second factor when asking what one more would satisfy: they all count the same. */
const ONE_MORE_FACTOR = 'otp';

/**
 * Two factors of different kinds (password + SMS/TOTP/passkey), a qualified e-signature, or a
 * user-verifying passkey.
 */
export function isMultiFactor(amr: readonly string[]): boolean {
  const has = (m: string) => amr.includes(m);
  if (has('sc')) return true;
  if ((has('hwk') || has('swk')) && has('user')) return true;
  // The first factor is a password, or the citizen's bank (`fed`), which vouched for them itself.
  return (has('pwd') || has('fed')) && amr.some((m) => SECOND_FACTORS.has(m));
}

/** Every acr value an account at `level` satisfies with a sign-in that used `amr`. */
export function satisfiedAcrs(level: AccountLevel, amr: readonly string[]): Acr[] {
  const mfa = isMultiFactor(amr);
  return ACR_VALUES.filter((acr) => {
    const [lvl, suffix] = acr.slice(ACR_PREFIX.length).split('-') as [AccountLevel, string | undefined];
    return LEVEL_RANK[lvl] <= LEVEL_RANK[level] && (!suffix || mfa);
  });
}

export function isKnownAcr(value: string): value is Acr {
  return (ACR_VALUES as readonly string[]).includes(value);
}

/**
 * The `acr` members of a `claims` parameter (OIDC Core 5.5.1.1), for the ID token and userinfo:
 * the values each names (`value` and `values`, as given) and whether it is essential. A claims
 * parameter that is not JSON names none (node-oidc-provider refuses it).
 */
export function acrClaimRequests(claims: unknown): Array<{ essential: boolean; values: unknown[] }> {
  let parsed = claims;
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      return [];
    }
  }
  const out: Array<{ essential: boolean; values: unknown[] }> = [];
  for (const target of ['id_token', 'userinfo'] as const) {
    const acr = (
      parsed as Record<string, Record<string, { essential?: unknown; value?: unknown; values?: unknown } | null> | undefined> | null
    )?.[target]?.acr;
    if (!acr || typeof acr !== 'object') continue;
    out.push({
      essential: acr.essential === true,
      values: [...(acr.value !== undefined ? [acr.value] : []), ...(Array.isArray(acr.values) ? acr.values : [])],
    });
  }
  return out;
}

/**
 * The acr values a request asks for: `acr_values` and the `acr` claim of the `claims` parameter
 * (id_token or userinfo), known values only, in the order given.
 */
export function requestedAcrs(params: { acr_values?: unknown; claims?: unknown }): Acr[] {
  const out: unknown[] = [];
  if (typeof params.acr_values === 'string') out.push(...params.acr_values.split(' ').filter(Boolean));
  for (const { values } of acrClaimRequests(params.claims)) out.push(...values);
  return [...new Set(out)].filter((v): v is Acr => typeof v === 'string' && isKnownAcr(v));
}

/**
 * The value to put in the ID token: the highest satisfied among those requested, or the highest
 * satisfied overall when none was requested. Undefined when a request cannot be met.
 */
export function chooseAcr(requested: readonly Acr[], satisfied: readonly Acr[]): Acr | undefined {
  const candidates = requested.length ? satisfied.filter((a) => requested.includes(a)) : satisfied;
  return [...candidates].sort((a, b) => ACR_VALUES.indexOf(b) - ACR_VALUES.indexOf(a))[0];
}

/**
 * What could be satisfied without raising the account's level. With `amr`: what this sign-in
 * satisfies now or after one more factor (any second factor counts the same; one of the same kind
 * as a possession-only first factor does not make two). Without: what the strongest sign-in at
 * `level` satisfies — the question "is the level enough for this request?".
 */
export function satisfiableWith(level: AccountLevel, amr?: readonly string[]): Acr[] {
  if (!amr) return ACR_VALUES.filter((acr) => LEVEL_RANK[acr.slice(ACR_PREFIX.length).split('-')[0] as AccountLevel] <= LEVEL_RANK[level]);
  return satisfiedAcrs(level, [...amr, ONE_MORE_FACTOR]);
}

/**
 * amr for a sign-in that combined `first` and `second` (RFC 8176: add `mfa` for two kinds). Two
 * methods of one kind (a security key without user verification, then an app code: both
 * possession) are not two factors, so `mfa` comes only with what isMultiFactor counts as such.
 */
export function combineAmr(first: readonly string[], second: readonly string[]): string[] {
  const all = [...new Set([...first.filter((m) => m !== 'mfa'), ...second.filter((m) => m !== 'mfa')])];
  return isMultiFactor(all) ? [...all, 'mfa'] : all;
}

/**
 * Whether an account at `level` still satisfies the acr a token (or a sign-in record) was issued
 * with: once the level has dropped below it, the token gets nothing more — no new ID token, no
 * data (DESIGN §3: never a token that claims more than holds). Codes, refresh tokens and vkhod's
 * ESIA records carry the acr and amr at the top, the provider's access tokens in `extra`.
 */
export function tokenAcrHolds(level: AccountLevel, token: { acr?: unknown; amr?: unknown; extra?: Record<string, unknown> }): boolean {
  const acr = token.extra?.acr ?? token.acr;
  if (typeof acr !== 'string' || !isKnownAcr(acr)) return true;
  const amr = token.extra?.amr ?? token.amr;
  return satisfiedAcrs(level, Array.isArray(amr) ? amr : []).includes(acr);
}
