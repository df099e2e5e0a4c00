/**
 * Consent remembered on the account as data (DESIGN §3): per client, the scopes and claims the
 * citizen allowed and when. Grants are not shared between sign-ins: each sign-in gets its own
 * grant built from this record (provider.ts, loadExistingGrant), so revoking one sign-in's tokens
 * (a replayed code, a token revoked by the service, signing out) never touches another's, and the
 * remembered consent survives all of them.
 */
import type { Accounts } from '../accounts/accounts.ts';
import type { Account } from '../accounts/account.ts';

export interface RememberedConsent {
  scopes: string[];
  claims: string[];
  /** When the citizen last allowed something for this client (ISO 8601). */
  at: string;
}

function isConsent(value: unknown): value is RememberedConsent {
  const v = value as RememberedConsent | null;
  return typeof v === 'object' && v !== null && Array.isArray(v.scopes) && Array.isArray(v.claims) && typeof v.at === 'string';
}

/** Every consent the account holds, per client id (entries of an older shape are ignored). */
export function consentsOf(account: Account): Record<string, RememberedConsent> {
  const stored = account.extra?.consents;
  if (!stored || typeof stored !== 'object') return {};
  return Object.fromEntries(
    Object.entries(stored as Record<string, unknown>).filter((entry): entry is [string, RememberedConsent] => isConsent(entry[1])),
  );
}

export function rememberedConsent(account: Account, clientId: string): RememberedConsent | undefined {
  return consentsOf(account)[clientId];
}

/**
 * Before consent was data, the account kept the id of a grant per client. Such an entry still
 * stands for a consent while that grant lives (read through `findGrant`); the next consent for
 * the client replaces it with data.
 */
export async function legacyConsent(
  account: Account,
  clientId: string,
  findGrant: (
    id: string,
  ) => Promise<{ accountId?: string; clientId?: string; getOIDCScope(): string; getOIDCClaims(): string[] } | undefined>,
): Promise<RememberedConsent | undefined> {
  const grantId = (account.extra?.consents as Record<string, unknown> | undefined)?.[clientId];
  if (typeof grantId !== 'string') return undefined;
  const grant = await findGrant(grantId);
  if (!grant || grant.accountId !== account.id || grant.clientId !== clientId) return undefined;
  return { scopes: grant.getOIDCScope().split(' ').filter(Boolean), claims: grant.getOIDCClaims(), at: '' };
}

/** Adds what the citizen has just allowed to the client's remembered consent. */
export async function rememberConsent(
  accounts: Accounts,
  accountId: string,
  clientId: string,
  allowed: { scopes: string[]; claims: string[] },
): Promise<void> {
  await accounts.modify(accountId, (account) => {
    const previous = rememberedConsent(account, clientId);
    const consent: RememberedConsent = {
      scopes: [...new Set([...(previous?.scopes ?? []), ...allowed.scopes])],
      claims: [...new Set([...(previous?.claims ?? []), ...allowed.claims])],
      at: new Date().toISOString(),
    };
    const stored = (account.extra?.consents ?? {}) as Record<string, unknown>;
    return { ...account, extra: { ...account.extra, consents: { ...stored, [clientId]: consent } } };
  });
}
