/**
 * Scopes → claims, and the claims an account releases. oidc-provider filters what it returns by
 * the granted scopes and requested claims; this module only says what the account holds.
 */
import type { Account } from '../store.ts';
import { fullName } from '../accounts/accounts.ts';

export const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub'],
  profile: ['name', 'family_name', 'given_name', 'middle_name', 'updated_at'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
};

export const SCOPES = ['openid', 'offline_access', ...Object.keys(SCOPE_CLAIMS).filter((s) => s !== 'openid')];

/** Every claim the account can release, unverified contacts included with `_verified: false`. */
export function accountClaims(account: Account): Record<string, unknown> {
  return {
    sub: account.id,
    name: fullName(account.name),
    family_name: account.name.family,
    given_name: account.name.given,
    middle_name: account.name.middle,
    updated_at: Math.floor(Date.parse(account.updatedAt) / 1000),
    email: account.email,
    email_verified: account.email ? account.emailVerified : undefined,
    phone_number: account.phone,
    phone_number_verified: account.phone ? account.phoneVerified : undefined,
  };
}
