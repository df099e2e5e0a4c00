/**
 * Confirmation of identity by post (DESIGN §2): a standard account asks for a code; the code is
 * queued as a letter to the registered address (operators print and mark letters sent through
 * the admin API), lives 30 days, is stored hashed (and sealed in the letter until it is sent),
 * and once typed in raises the account to confirmed. A request voided (code used up or expired,
 * data changed) or replaced by a new one cancels its letter if it is still queued.
 */
import { randomUUID } from 'node:crypto';
import { fullName, type Accounts } from '../accounts/accounts.ts';
import { LevelError, type Levels } from '../accounts/levels.ts';
import { identityFingerprint, legacyFingerprint } from '../accounts/verification.ts';
import type { Limits } from '../security/limits.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { REGISTRY_ITEMS } from '../accounts/registry.ts';
import type { Letter, LetterRepository } from '../store.ts';
import type { Account, VerifiedItem } from '../accounts/account.ts';
import type { OneTimeCodes, VerifyOutcome } from './one-time-code.ts';

export const POST_CODE_TTL_SECONDS = 30 * 86400;
export const POST_CODE_PURPOSE = 'post';

export class PostalError extends Error {
  constructor(
    readonly code:
      'not_standard' | 'no_address' | 'already_requested' | 'nothing_requested' | 'data_changed' | 'too_many_letters' | 'locked',
  ) {
    super(code);
    this.name = 'PostalError';
  }
}

/**
 * True when the identity data differs from what the open request's letter was sent for. A request
 * made before the fingerprint was kept, or before it covered every item exactly (a letter already
 * in the post then: a code costs a letter of the three a month), is taken as it was.
 */
function changedSince(open: NonNullable<Account['postalConfirmation']>, account: Account): boolean {
  return Boolean(open.fingerprint && open.fingerprint !== identityFingerprint(account) && open.fingerprint !== legacyFingerprint(account));
}

/** The open request's letter was sent for other data: its code confirms nothing, a new letter may be asked for. */
export function postalRequestOutdated(account: Account): boolean {
  return Boolean(account.postalConfirmation && changedSince(account.postalConfirmation, account));
}

export class PostalConfirmation {
  constructor(
    private readonly accounts: Accounts,
    private readonly levels: Levels,
    private readonly codes: OneTimeCodes,
    private readonly letters: LetterRepository,
    private readonly box: SecretBox,
    /** Letters per account and 30 days, wrong codes per account over all letters (issue 8). */
    private readonly limits?: Limits,
  ) {}

  /**
   * After POST_CODE_MAX_FAILURES wrong codes over all its letters the account cannot use the
   * postal path any more (no new letter, no code accepted): only a service centre confirms it.
   */
  async locked(accountId: string): Promise<boolean> {
    return Boolean(this.limits && (await this.limits.peek('post-code-failures-account', accountId)).blocked);
  }

  private sealContext(letterId: string): string {
    return `letter:${letterId}`;
  }

  /**
   * Queues a letter with a new code for the account's current identity data. One open request at
   * a time (a new one after 30 days, or at once when the data it was sent for has changed).
   */
  async request(account: Account, ip?: string): Promise<Account> {
    if (account.level !== 'standard') throw new PostalError('not_standard');
    const address = account.identity?.address;
    if (!address) throw new PostalError('no_address');
    const fingerprint = identityFingerprint(account);
    const open = account.postalConfirmation;
    if (open && !changedSince(open, account) && Date.parse(open.requestedAt) + POST_CODE_TTL_SECONDS * 1000 > Date.now())
      throw new PostalError('already_requested');
    if (await this.locked(account.id)) throw new PostalError('locked');
    // Each letter is a fresh set of guesses: at most POST_LETTERS_PER_30_DAYS of them.
    if (this.limits && !(await this.limits.reserve('post-letters-account', account.id)).allowed) throw new PostalError('too_many_letters');
    const { challengeId, code } = await this.codes.issue({
      purpose: POST_CODE_PURPOSE,
      recipient: account.id,
      ttlSeconds: POST_CODE_TTL_SECONDS,
      maxAttempts: 5,
      accountId: account.id,
    });
    const letter: Letter = {
      id: randomUUID(),
      accountId: account.id,
      status: 'queued',
      createdAt: new Date().toISOString(),
      recipient: { name: fullName(account.name), address },
      sealedCode: '',
    };
    letter.sealedCode = this.box.encrypt(code, this.sealContext(letter.id));
    await this.letters.create(letter);
    // The request this one replaces, as found on the version written (a concurrent request too).
    let replaced: string | undefined;
    const updated = await this.accounts.modify(
      account.id,
      (a) => {
        replaced = a.postalConfirmation?.letterId;
        return { ...a, postalConfirmation: { challengeId, letterId: letter.id, requestedAt: letter.createdAt, fingerprint } };
      },
      (before) => [
        {
          type: 'level.post_requested',
          actor: 'self',
          ip,
          outcome: 'success',
          // A request for data that has changed since is replaced (its code no longer confirms anything).
          details: { letterId: letter.id, ...(before.postalConfirmation ? { replaces: before.postalConfirmation.letterId } : {}) },
        },
      ],
    );
    // The replaced request's letter, if not posted yet, is not to be: its code confirms nothing now.
    if (replaced && replaced !== letter.id) await this.letters.cancel(replaced, new Date().toISOString(), 'replaced');
    return updated;
  }

  /**
   * The letter is of no more use: the request is dropped, so a new one can be asked for at once,
   * and the letter, if still queued, is cancelled (taken off the print queue, its code dropped).
   */
  private async voidRequest(
    accountId: string,
    open: NonNullable<Account['postalConfirmation']>,
    reason: string,
    ip?: string,
  ): Promise<void> {
    // First, so that no operator prints a code that can no longer be used.
    await this.letters.cancel(open.letterId, new Date().toISOString(), reason);
    await this.accounts.modify(
      accountId,
      (a) => {
        if (a.postalConfirmation?.challengeId !== open.challengeId) return a;
        const { postalConfirmation: _void, ...rest } = a;
        return rest as Account;
      },
      { type: 'level.post_voided', actor: 'self', ip, outcome: 'failure', details: { letterId: open.letterId, reason } },
    );
  }

  /** Checks a typed code; on success the account becomes confirmed. */
  async verify(
    account: Account,
    code: string,
    ip: string,
  ): Promise<VerifyOutcome | 'nothing_requested' | 'not_standard' | 'data_changed' | 'locked'> {
    if (await this.locked(account.id)) return 'locked';
    const open = account.postalConfirmation;
    if (!open) return 'nothing_requested';
    // The letter confirms the data it was sent for: a standard account whose data was checked.
    if (account.level !== 'standard') return 'not_standard';
    // Data changed since the letter was sent (even if checked again since) is not what it confirms.
    if (changedSince(open, account)) {
      await this.voidRequest(account.id, open, 'data_changed', ip);
      return 'data_changed';
    }
    // A wrong code is reserved against the account's budget over all letters before it is checked.
    const budget = this.limits ? await this.limits.reserve('post-code-failures-account', account.id) : undefined;
    if (budget && !budget.allowed) return 'locked';
    const outcome = await this.codes
      .verify({ challengeId: open.challengeId, purpose: POST_CODE_PURPOSE, recipient: account.id, code, ip })
      .catch(async (err: unknown) => {
        if (budget) await this.limits!.release('post-code-failures-account', account.id);
        throw err;
      });
    const wrong = outcome === 'wrong' || outcome === 'exhausted';
    if (budget && !wrong) await this.limits!.release('post-code-failures-account', account.id);
    if (budget?.reached && wrong) {
      // The last allowed wrong code: the letter (if still queued) is not to be posted, no new one.
      await this.voidRequest(account.id, open, 'locked', ip);
      return 'locked';
    }
    // A used-up or expired letter: the citizen may ask for a new one at once (as the message says).
    if (outcome === 'exhausted' || outcome === 'expired') await this.voidRequest(account.id, open, outcome, ip);
    if (outcome !== 'ok') return outcome;
    // The code proves the address the letter went to: an address changed since is not verified by it.
    const sentTo = (await this.letters.find(open.letterId))?.recipient?.address;
    const sameAddress = (a: Account) =>
      Boolean(sentTo && a.identity?.address?.formatted === sentTo.formatted && a.identity.address.postalCode === sentTo.postalCode);
    try {
      const items = (a: Account): VerifiedItem[] => [...REGISTRY_ITEMS, ...(sameAddress(a) ? (['address'] as const) : [])];
      await this.levels.confirm(
        account.id,
        { method: 'post', actor: 'post', ip, items, evidence: { letterId: open.letterId, address: sentTo?.formatted } },
        (a) => {
          // Checked again on the very version written: data changed meanwhile is not confirmed.
          if (changedSince(open, a)) throw new PostalError('data_changed');
          const { postalConfirmation: _done, ...rest } = a;
          return rest as Account;
        },
      );
    } catch (err) {
      if (err instanceof LevelError) return 'not_standard';
      if (err instanceof PostalError && err.code === 'data_changed') {
        await this.voidRequest(account.id, open, 'data_changed', ip);
        return 'data_changed';
      }
      throw err;
    }
    // Used: the letter leaves the print queue if it is still there (it was evidently delivered,
    // only never marked sent); the post room sees it as voided.
    await this.letters.cancel(open.letterId, new Date().toISOString(), 'used');
    return 'ok';
  }

  /** The letter with its code in clear, for printing (queued letters only). */
  printable(letter: Letter): Letter & { code?: string } {
    return {
      ...letter,
      sealedCode: undefined,
      code: letter.sealedCode ? this.box.decrypt(letter.sealedCode, this.sealContext(letter.id)) : undefined,
    };
  }
}
