/**
 * The service-centre desk (DESIGN §2, "confirmed"): find a citizen by SNILS or passport, show
 * their card, and — once the operator has seen the passport in person and re-typed its series
 * and number — raise the standard account to confirmed. Shared by the admin API and the
 * /operator pages; every action is audited with the operator as actor.
 */
import { fullName, type Accounts } from '../accounts/accounts.ts';
import { LevelError, type Levels } from '../accounts/levels.ts';
import { heldNumbers, numberKey, type NumberKind } from '../accounts/identity-numbers.ts';
import { validVerifications } from '../accounts/verification.ts';
import type { AuditTrail } from '../security/audit.ts';
import type { AccountKey } from '../store.ts';
import type { Account, PersonName } from '../accounts/account.ts';
import { UserError } from '../web/errors.ts';
import type { Confirmation } from './input.ts';
import { operatorActor, type Operator } from './operators.ts';

/** What an operator sees of a citizen: enough to recognise them, never a full document. */
export interface CitizenCard {
  id: string;
  name: PersonName;
  full_name: string;
  birth_date?: string;
  level: Account['level'];
  /** series and number with the middle hidden: `45 ** ****56` */
  passport?: string;
  verification: {
    /** the registry check of SNILS and passport (upgrade to standard) */
    registry_check: 'none' | 'pending' | 'approved' | 'rejected';
    /** the verifications that hold for the current data, oldest first */
    verified_by: Array<{ method: string; level: 'standard' | 'confirmed'; time: string }>;
    /** whether a service-centre confirmation can be made now */
    can_confirm: boolean;
  };
}

/** Another account holding one of this account's identity numbers. */
export interface NumberConflict {
  kind: NumberKind;
  /** whether this account holds it verified */
  verifiedHere: boolean;
  others: Array<{ id: string; full_name: string; verified: boolean }>;
}

export function maskPassport(series: string, number: string): string {
  return `${series.slice(0, 2)} ** ****${number.slice(4)}`;
}

export function citizenCard(account: Account): CitizenCard {
  const passport = account.identity?.passport;
  return {
    id: account.id,
    name: account.name,
    full_name: fullName(account.name),
    ...(account.identity?.birthDate ? { birth_date: account.identity.birthDate } : {}),
    level: account.level,
    ...(passport ? { passport: maskPassport(passport.series, passport.number) } : {}),
    verification: {
      registry_check: account.registryCheck?.status ?? 'none',
      verified_by: validVerifications(account).map((v) => ({ method: v.method, level: v.level, time: v.time })),
      can_confirm: account.level === 'standard' && Boolean(passport),
    },
  };
}

export class ServiceCentre {
  constructor(
    private readonly accounts: Accounts,
    private readonly levels: Levels,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * The active account with that SNILS or passport, with any registry decision applied: the one
   * holding it verified, or else the only one that typed it in.
   */
  async search(key: AccountKey, operator: Operator, ip: string): Promise<Account | undefined> {
    const holders = await this.holders(key, operator, ip);
    const found =
      holders.find((a) => heldNumbers(a).some((n) => n.kind === key.kind && n.value === key.value && n.verified)) ??
      (holders.length === 1 ? holders[0] : undefined);
    return found && (await this.levels.refresh(found));
  }

  /** Every active account holding that SNILS or passport, verified or only typed in (audited as a search). */
  async holders(key: AccountKey, operator: Operator, ip: string): Promise<Account[]> {
    const holders = await this.accounts.holdersOf(key);
    await this.audit.record({
      type: 'admin.account_search',
      accountId: holders.length === 1 ? holders[0]!.id : undefined,
      actor: operatorActor(operator),
      ip,
      outcome: 'success',
      details: { by: key.kind, found: holders.length },
    });
    return holders;
  }

  /** The account's identity numbers that other accounts hold too: a conflict for an operator to see and resolve. */
  async conflicts(account: Account): Promise<NumberConflict[]> {
    const out: NumberConflict[] = [];
    for (const n of heldNumbers(account)) {
      const others = (await this.accounts.holdersOf(numberKey(n))).filter((a) => a.id !== account.id);
      if (!others.length) continue;
      out.push({
        kind: n.kind,
        verifiedHere: n.verified,
        others: others.map((o) => ({
          id: o.id,
          full_name: fullName(o.name),
          verified: heldNumbers(o).some((h) => h.kind === n.kind && h.value === n.value && h.verified),
        })),
      });
    }
    return out;
  }

  /**
   * Resolves a conflict: the number is taken from this account, where it is only typed in (the
   * operator has seen its owner's documents). Its owner is told; audited with the operator as actor.
   */
  async removeNumber(accountId: string, kind: string, operator: Operator, ip: string): Promise<Account> {
    const actor = operatorActor(operator);
    const account = await this.find(accountId);
    const held = heldNumbers(account).find((n) => n.kind === kind);
    if (!held || held.verified) {
      await this.audit.record({
        type: 'admin.number_remove',
        accountId,
        actor,
        ip,
        outcome: 'failure',
        details: { kind: kind.slice(0, 16), reason: held ? 'verified' : 'not_held' },
      });
      throw new UserError(409, held ? 'operator.errors.number_verified' : 'operator.errors.number_not_held');
    }
    return this.levels.removeNumber(accountId, held.kind, actor, ip);
  }

  /** The account for a card page; 404 when there is none (or it was deleted). */
  async open(accountId: string, operator: Operator, ip: string): Promise<Account> {
    const account = await this.find(accountId);
    await this.audit.record({
      type: 'admin.account_viewed',
      accountId: account.id,
      actor: operatorActor(operator),
      ip,
      outcome: 'success',
    });
    return account;
  }

  /** The account without an audit event (a page shown again after a refusal). */
  async find(accountId: string): Promise<Account> {
    const found = accountId.length <= 64 ? await this.accounts.findActive(accountId) : undefined;
    if (!found) throw new UserError(404, 'admin.errors.account_not_found');
    return this.levels.refresh(found);
  }

  /**
   * Confirms the citizen's identity: the account must be standard and the passport the operator
   * re-typed must be the one on the account. Refusals are 409s and audited too.
   */
  async confirm(accountId: string, input: Confirmation, operator: Operator, ip: string): Promise<Account> {
    const actor = operatorActor(operator);
    const account = await this.find(accountId);
    const refuse = async (key: string, reason: string): Promise<never> => {
      await this.audit.record({ type: 'admin.account_confirm', accountId, actor, ip, outcome: 'failure', details: { reason } });
      throw new UserError(409, key);
    };
    if (account.level === 'confirmed') return refuse('admin.errors.already_confirmed', 'already_confirmed');
    const passport = account.identity?.passport;
    if (account.level !== 'standard' || !passport) return refuse('admin.errors.not_standard', 'not_standard');
    if (passport.series !== input.passport_series || passport.number !== input.passport_number)
      return refuse('admin.errors.passport_mismatch', 'passport_mismatch');
    let confirmed: Account;
    try {
      confirmed = await this.levels.confirm(accountId, {
        method: 'service_centre',
        actor,
        ip,
        evidence: { document: 'passport', checkedInPerson: true, ...(input.office ? { office: input.office } : {}) },
        // What the operator saw in the passport; SNILS and INN are not in it.
        items: ['name', 'birthdate', 'gender', 'birthplace', 'id_doc'],
      });
    } catch (err) {
      // The data changed between the check above and the write: tell what holds now.
      if (err instanceof LevelError)
        return refuse(err.code === 'already' ? 'admin.errors.already_confirmed' : 'admin.errors.not_standard', err.code);
      throw err;
    }
    await this.audit.record({
      type: 'admin.account_confirmed',
      accountId,
      actor,
      ip,
      outcome: 'success',
      details: { method: 'service_centre', ...(input.office ? { office: input.office } : {}) },
    });
    return confirmed;
  }
}
