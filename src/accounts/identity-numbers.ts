/**
 * Identity numbers (SNILS, passport series + number) as keys (DESIGN §2): only a verified number
 * is a unique key. A number typed in but not verified never blocks its real owner: when another
 * account gets it verified, it is taken from every account that only typed it in.
 */
import type { AccountKey } from '../store.ts';
import type { Account, VerifiedItem } from './account.ts';
import { passportKey } from './passport.ts';
import { verifiedItems } from './verification.ts';

export type NumberKind = 'snils' | 'passport';

/** The item a number kind is verified as. */
export const NUMBER_ITEM: Record<NumberKind, VerifiedItem> = { snils: 'snils', passport: 'id_doc' };

export interface HeldNumber {
  kind: NumberKind;
  value: string;
  verified: boolean;
}

/** The identity numbers the account holds, each with whether a verification that holds vouches for it. */
export function heldNumbers(account: Account): HeldNumber[] {
  const verified = verifiedItems(account);
  const out: HeldNumber[] = [];
  if (account.snils) out.push({ kind: 'snils', value: account.snils, verified: verified.has('snils') });
  const p = account.identity?.passport;
  if (p) out.push({ kind: 'passport', value: passportKey(p.series, p.number), verified: verified.has('id_doc') });
  return out;
}

/** The account without this number (an unverified number taken by its verified owner). */
export function withoutNumber(account: Account, kind: NumberKind): Account {
  if (kind === 'snils') {
    const { snils: _gone, ...rest } = account;
    return rest as Account;
  }
  const { passport: _gone, ...identity } = account.identity ?? {};
  return { ...account, identity };
}

export const numberKey = (n: Pick<HeldNumber, 'kind' | 'value'>): AccountKey => ({ kind: n.kind, value: n.value });
