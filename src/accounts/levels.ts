/**
 * Raising and dropping the account level (DESIGN §2). Every change of level is a verification
 * event kept on the account and an audit event, written in one transaction; the citizen is told.
 */
import { DuplicateKeyError } from '../store.ts';
import type { Account, IdentityData, PersonName, VerificationEvent, VerifiedItem } from './account.ts';
import { heldNumbers, numberKey, withoutNumber, type NumberKind } from './identity-numbers.ts';
import type { AccountEvent, Accounts } from './accounts.ts';
import { REGISTRY_ITEMS, type RegistryVerifier } from './registry.ts';
import {
  CORE_ITEMS,
  derivedLevel,
  identityFingerprint,
  newVerification,
  readyForRegistry,
  uncoveredItems,
  verifiedItems,
  withDerivedLevel,
} from './verification.ts';

/** How recent a sign-in must be to change identity data (the cabinet's and the in-flow upgrade page's rule). */
export const RECENT_SIGN_IN_SECONDS = 300;

const RANK: Record<Account['level'], number> = { simplified: 0, standard: 1, confirmed: 2 };

/** What saving the identity form would do to the level: from, to, and the verified items it would undo. */
export interface LevelDrop {
  from: Account['level'];
  to: Account['level'];
  items: VerifiedItem[];
}

export class LevelError extends Error {
  constructor(readonly code: 'incomplete' | 'not_standard' | 'pending' | 'already') {
    super(code);
    this.name = 'LevelError';
  }
}

/** The registry's answer is for a check that is no longer open (see `refresh`). */
class StaleRegistryCheck extends Error {}

export interface ConfirmationInput {
  method: VerificationEvent['method'];
  actor: string;
  evidence: Record<string, unknown>;
  /** What the verification vouches for (default: every item the account holds); a function sees the version written. */
  items?: VerifiedItem[] | ((account: Account) => VerifiedItem[]);
  ip?: string;
}

export class Levels {
  constructor(
    private readonly accounts: Accounts,
    private readonly registry: RegistryVerifier,
    /** Tells the citizen about a change of level (message texts are the caller's). */
    private readonly onLevelChange: (account: Account, from: Account['level']) => Promise<void> = async () => undefined,
    /** Tells a citizen that an identity number they had only typed in went to its verified owner. */
    private readonly onNumberRemoved: (account: Account, kind: NumberKind) => Promise<void> = async () => undefined,
  ) {}

  /**
   * Refuses (DuplicateKeyError) a number another account holds verified: that account's holder is
   * its proven owner. A number others only typed in does not stand in the way.
   */
  private async checkNumbersFree(accountId: string, candidate: Account): Promise<void> {
    for (const n of heldNumbers(candidate)) {
      const owner = await this.accounts.findByKey(numberKey(n));
      if (owner && owner.id !== accountId) throw new DuplicateKeyError(numberKey(n));
    }
  }

  /**
   * The account's verified identity numbers are its own: each is taken from every other account
   * that only typed it in (that account drops to the level its remaining data supports, its owner
   * is told), audited on both accounts. Returns the accounts the numbers were taken from.
   */
  async releaseToOwner(owner: Account, ip?: string): Promise<string[]> {
    const released: string[] = [];
    for (const n of heldNumbers(owner).filter((h) => h.verified)) {
      for (const holder of await this.accounts.holdersOf(numberKey(n))) {
        if (holder.id === owner.id) continue;
        let before: Account | undefined;
        const after = await this.accounts.modify(
          holder.id,
          (current) => {
            before = current;
            // Only a number this account holds unverified (a verified one would be a store conflict, not squatting).
            const held = heldNumbers(current).find((h) => h.kind === n.kind && h.value === n.value);
            if (!held || held.verified) return current;
            const next = withoutNumber(current, n.kind);
            if (next.registryCheck && next.registryCheck.fingerprint !== identityFingerprint(next)) delete next.registryCheck;
            return withDerivedLevel(next);
          },
          (b, a) =>
            heldNumbers(b).length === heldNumbers(a).length
              ? []
              : [
                  {
                    type: 'identity.number_removed',
                    actor: 'system',
                    ip,
                    outcome: 'success',
                    details: { kind: n.kind, reason: 'verified_by_owner', owner: owner.id },
                  },
                  ...(b.level === a.level
                    ? []
                    : [
                        {
                          type: 'level.changed',
                          actor: 'system',
                          ip,
                          outcome: 'success' as const,
                          details: { reason: 'number_removed', from: b.level, to: a.level },
                        },
                      ]),
                ],
        );
        if (!before || heldNumbers(before).length === heldNumbers(after).length) continue;
        released.push(holder.id);
        await this.accounts.modify(owner.id, (a) => a, {
          type: 'identity.number_claimed',
          actor: 'system',
          ip,
          outcome: 'success',
          details: { kind: n.kind, from: holder.id },
        });
        await this.onNumberRemoved(after, n.kind);
        if (before.level !== after.level) await this.onLevelChange(after, before.level);
      }
    }
    return released;
  }

  /**
   * An operator's decision on a conflict: the number is taken from the account that only typed it
   * in (the operator has seen its owner's documents). Audited with the operator as actor.
   */
  async removeNumber(accountId: string, kind: NumberKind, actor: string, ip?: string): Promise<Account> {
    let before: Account | undefined;
    const after = await this.accounts.modify(
      accountId,
      (current) => {
        before = current;
        const held = heldNumbers(current).find((h) => h.kind === kind);
        if (!held || held.verified) throw new LevelError('already');
        const next = withoutNumber(current, kind);
        if (next.registryCheck && next.registryCheck.fingerprint !== identityFingerprint(next)) delete next.registryCheck;
        return withDerivedLevel(next);
      },
      (b, a) => [
        { type: 'identity.number_removed', actor, ip, outcome: 'success', details: { kind, reason: 'operator_decision' } },
        ...(b.level === a.level
          ? []
          : [
              {
                type: 'level.changed',
                actor,
                ip,
                outcome: 'success' as const,
                details: { reason: 'number_removed', from: b.level, to: a.level },
              },
            ]),
      ],
    );
    await this.onNumberRemoved(after, kind);
    if (before && before.level !== after.level) await this.onLevelChange(after, before.level);
    return after;
  }

  /** The audit events of a write: `main`, plus `level.changed` when the level moved. */
  private events(main: AccountEvent, change: Omit<AccountEvent, 'type'>): (before: Account, after: Account) => AccountEvent[] {
    return (before, after) => [
      main,
      ...(before.level === after.level
        ? []
        : [{ ...change, type: 'level.changed', details: { ...change.details, from: before.level, to: after.level } }]),
    ];
  }

  /**
   * Stores the identity data (and SNILS, name when given). If it differs from what was verified,
   * the level drops accordingly and any registry check of older data is void. `identity` is the
   * whole form: an optional item left empty (INN, address) is removed.
   */
  async saveIdentity(
    accountId: string,
    input: { snils?: string; identity: IdentityData; name?: PersonName; ip?: string },
  ): Promise<Account> {
    const current = await this.accounts.findActive(accountId);
    if (!current) throw new Error('account not found');
    await this.checkNumbersFree(accountId, Levels.withInput(current, input));
    let before: Account | undefined;
    const after = await this.accounts.modify(
      accountId,
      (current) => {
        before = current;
        const next = Levels.withInput(current, input);
        if (next.registryCheck && next.registryCheck.fingerprint !== identityFingerprint(next)) delete next.registryCheck;
        return withDerivedLevel(next);
      },
      this.events(
        { type: 'identity.updated', actor: 'self', ip: input.ip, outcome: 'success' },
        { actor: 'system', ip: input.ip, outcome: 'success', details: { reason: 'data_changed' } },
      ),
    );
    if (before && before.level !== after.level) await this.onLevelChange(after, before.level);
    // Data changed back to what was verified makes its numbers verified again: they are the owner's.
    await this.releaseToOwner(after, input.ip);
    return after;
  }

  /** The drop of level saving `input` would cause (undefined when the level stays or rises). */
  static levelDrop(current: Account, input: { snils?: string; identity: IdentityData; name?: PersonName }): LevelDrop | undefined {
    const next = withDerivedLevel(Levels.withInput(current, input));
    const from = derivedLevel(current);
    if (RANK[next.level] >= RANK[from]) return undefined;
    const before = verifiedItems(current);
    const after = verifiedItems(next);
    return { from, to: next.level, items: CORE_ITEMS.filter((i) => before.has(i) && !after.has(i)) };
  }

  /** The account as the identity form would leave it (before the level is derived again). */
  static withInput(current: Account, input: { snils?: string; identity: IdentityData; name?: PersonName }): Account {
    return {
      ...current,
      identity: { ...input.identity },
      ...(input.snils ? { snils: input.snils } : {}),
      ...(input.name ? { name: input.name } : {}),
    };
  }

  /** Sends the current data to the registry (upgrade to standard). */
  async requestStandard(accountId: string, ip?: string): Promise<Account> {
    const account = await this.accounts.findActive(accountId);
    if (!account) throw new Error('account not found');
    if (!readyForRegistry(account)) throw new LevelError('incomplete');
    if (account.level !== 'simplified') throw new LevelError('already');
    if (account.registryCheck?.status === 'pending' && account.registryCheck.fingerprint === identityFingerprint(account))
      throw new LevelError('pending');
    const ticket = await this.registry.submit({
      name: account.name,
      birthDate: account.identity!.birthDate!,
      snils: account.snils!,
      passport: account.identity!.passport!,
    });
    // The fingerprint of the data *sent*: data saved while the registry was asked is other data, and
    // the answer (about what was sent) then vouches for nothing (refresh drops the check).
    const fingerprint = identityFingerprint(account);
    const updated = await this.accounts.modify(
      accountId,
      (a) => ({ ...a, registryCheck: { ticket, status: 'pending', submittedAt: new Date().toISOString(), fingerprint } }),
      { type: 'level.registry_submitted', actor: 'self', ip, outcome: 'success', details: { registry: this.registry.name } },
    );
    return this.refresh(updated);
  }

  /** Applies the registry's decision when it has come; returns the account as it is now. */
  async refresh(account: Account): Promise<Account> {
    const check = account.registryCheck;
    if (check?.status !== 'pending') return account;
    if (check.fingerprint !== identityFingerprint(account)) {
      // Sent for other data (changed since, or sent before the fingerprint covered the whole
      // passport): its answer vouches for nothing now. Dropped, so the citizen may send the data again.
      return this.accounts.modify(account.id, (a) => {
        if (a.registryCheck?.ticket !== check.ticket) return a;
        const { registryCheck: _void, ...rest } = a;
        return rest as Account;
      });
    }
    const decision = await this.registry.status(check.ticket);
    if (decision.status === 'pending') return account;
    const decidedAt = new Date().toISOString();
    // Applied to the very version written, once: a concurrent refresh that got there first, or
    // data changed since the check was sent, leaves nothing to decide.
    const stillOpen = (a: Account) => {
      if (a.registryCheck?.ticket !== check.ticket || a.registryCheck.status !== 'pending' || identityFingerprint(a) !== check.fingerprint)
        throw new StaleRegistryCheck();
    };
    try {
      if (decision.status === 'rejected') {
        const updated = await this.accounts.modify(
          account.id,
          (a) => {
            stillOpen(a);
            return { ...a, registryCheck: { ...check, status: 'rejected', decidedAt, reason: decision.reason } };
          },
          { type: 'level.registry_rejected', actor: this.registry.name, outcome: 'failure', details: { reason: decision.reason } },
        );
        await this.onLevelChange(updated, updated.level);
        return updated;
      }
      const evidence = { type: 'electronic_record', registry: this.registry.name, ticketSubmittedAt: check.submittedAt };
      return await this.record(
        account.id,
        { method: 'registry', actor: this.registry.name, evidence, items: REGISTRY_ITEMS },
        'standard',
        (a) => {
          stillOpen(a);
          return { ...a, registryCheck: { ...check, status: 'approved', decidedAt } };
        },
      );
    } catch (err) {
      // StaleRegistryCheck: decided meanwhile. DuplicateKeyError: another account became the
      // verified owner of these numbers meanwhile (both held them typed in and its check was applied
      // first) — its verification takes them from here and tells this citizen (releaseToOwner).
      // Either way, the account as it is now.
      if (!(err instanceof StaleRegistryCheck) && !(err instanceof DuplicateKeyError)) throw err;
      return (await this.accounts.findActive(account.id)) ?? account;
    }
  }

  /**
   * Raises the account to confirmed (service centre, post; banks and e-signatures bring their own
   * data and go through `record` directly). The account must be standard.
   */
  async confirm(accountId: string, input: ConfirmationInput, also?: (a: Account) => Account): Promise<Account> {
    const account = await this.accounts.findActive(accountId);
    if (!account) throw new Error('account not found');
    if (account.level === 'confirmed') throw new LevelError('already');
    if (account.level !== 'standard') throw new LevelError('not_standard');
    return this.record(accountId, input, 'confirmed', also, 'standard');
  }

  /** Appends a verification event for the current data and re-derives the level, in one write. */
  async record(
    accountId: string,
    input: ConfirmationInput,
    level: 'standard' | 'confirmed',
    also: (a: Account) => Account = (a) => a,
    requires?: Account['level'],
  ): Promise<Account> {
    let before: Account | undefined;
    const after = await this.accounts.modify(
      accountId,
      (current) => {
        // Checked on the very version written: data changed meanwhile must be verified first.
        if (requires && derivedLevel(current) !== requires) throw new LevelError('not_standard');
        before = current;
        const base = also(current);
        const items = typeof input.items === 'function' ? input.items(base) : input.items;
        const event = newVerification(base, { method: input.method, level, actor: input.actor, evidence: input.evidence, items });
        return withDerivedLevel({ ...base, verifications: [...(base.verifications ?? []), event] });
      },
      (b, a) => [
        ...this.events(
          { type: 'level.verified', actor: input.actor, ip: input.ip, outcome: 'success', details: { method: input.method, level } },
          { actor: input.actor, ip: input.ip, outcome: 'success', details: { method: input.method } },
        )(b, a),
        // A confirming source that could not lift the level: which items it left uncovered.
        ...(level === 'confirmed' && a.level !== 'confirmed'
          ? [
              {
                type: 'level.not_confirmed',
                actor: input.actor,
                ip: input.ip,
                outcome: 'failure' as const,
                details: { method: input.method, missing: uncoveredItems(a) },
              },
            ]
          : []),
      ],
    );
    if (before && before.level !== after.level) await this.onLevelChange(after, before.level);
    await this.releaseToOwner(after, input.ip);
    return after;
  }
}
