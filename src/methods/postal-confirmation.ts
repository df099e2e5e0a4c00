/**
 * Confirmation of identity by post (DESIGN §2): a standard account asks for a code; the code is
 * queued as a letter to the registered address (operators print and mark letters sent through
 * the admin API), lives 30 days, is stored hashed (and sealed in the letter until it is sent),
 * and once typed in raises the account to confirmed.
 */
import { randomUUID } from 'node:crypto';
import { fullName, type Accounts } from '../accounts/accounts.ts';
import { LevelError, type Levels } from '../accounts/levels.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { REGISTRY_ITEMS } from '../accounts/registry.ts';
import type { Account, Letter, LetterRepository, VerifiedItem } from '../store.ts';
import type { OneTimeCodes, VerifyOutcome } from './one-time-code.ts';

export const POST_CODE_TTL_SECONDS = 30 * 86400;
export const POST_CODE_PURPOSE = 'post';

export class PostalError extends Error {
  constructor(readonly code: 'not_standard' | 'no_address' | 'already_requested' | 'nothing_requested') {
    super(code);
    this.name = 'PostalError';
  }
}

export class PostalConfirmation {
  constructor(
    private readonly accounts: Accounts,
    private readonly levels: Levels,
    private readonly codes: OneTimeCodes,
    private readonly letters: LetterRepository,
    private readonly box: SecretBox,
  ) {}

  private sealContext(letterId: string): string {
    return `letter:${letterId}`;
  }

  /** Queues a letter with a new code. One open request at a time (a new one after 30 days). */
  async request(account: Account, ip?: string): Promise<Account> {
    if (account.level !== 'standard') throw new PostalError('not_standard');
    const address = account.identity?.address;
    if (!address) throw new PostalError('no_address');
    const open = account.postalConfirmation;
    if (open && Date.parse(open.requestedAt) + POST_CODE_TTL_SECONDS * 1000 > Date.now()) throw new PostalError('already_requested');
    const { challengeId, code } = await this.codes.issue({ purpose: POST_CODE_PURPOSE, recipient: account.id, ttlSeconds: POST_CODE_TTL_SECONDS, maxAttempts: 5, accountId: account.id });
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
    return this.accounts.modify(account.id, (a) => ({ ...a, postalConfirmation: { challengeId, letterId: letter.id, requestedAt: letter.createdAt } }), {
      type: 'level.post_requested',
      actor: 'self',
      ip,
      outcome: 'success',
      details: { letterId: letter.id },
    });
  }

  /** Checks a typed code; on success the account becomes confirmed. */
  async verify(account: Account, code: string, ip: string): Promise<VerifyOutcome | 'nothing_requested' | 'not_standard'> {
    const open = account.postalConfirmation;
    if (!open) return 'nothing_requested';
    // The letter confirms the data it was sent for: a standard account whose data was checked.
    if (account.level !== 'standard') return 'not_standard';
    const outcome = await this.codes.verify({ challengeId: open.challengeId, purpose: POST_CODE_PURPOSE, recipient: account.id, code, ip });
    if (outcome === 'exhausted' || outcome === 'expired') {
      // The letter is of no more use: the citizen may ask for a new one at once (as the message says).
      await this.accounts.modify(
        account.id,
        (a) => {
          if (a.postalConfirmation?.challengeId !== open.challengeId) return a;
          const { postalConfirmation: _void, ...rest } = a;
          return rest as Account;
        },
        { type: 'level.post_voided', actor: 'self', ip, outcome: 'failure', details: { letterId: open.letterId, reason: outcome } },
      );
    }
    if (outcome !== 'ok') return outcome;
    // The code proves the address the letter went to: an address changed since is not verified by it.
    const sentTo = (await this.letters.find(open.letterId))?.recipient.address;
    const sameAddress = (a: Account) => Boolean(sentTo && a.identity?.address?.formatted === sentTo.formatted && a.identity.address.postalCode === sentTo.postalCode);
    try {
      const items = (a: Account): VerifiedItem[] => [...REGISTRY_ITEMS, ...(sameAddress(a) ? (['address'] as const) : [])];
      await this.levels.confirm(account.id, { method: 'post', actor: 'post', ip, items, evidence: { letterId: open.letterId, address: sentTo?.formatted } }, (a) => {
        const { postalConfirmation: _done, ...rest } = a;
        return rest as Account;
      });
    } catch (err) {
      if (err instanceof LevelError) return 'not_standard';
      throw err;
    }
    return 'ok';
  }

  /** The letter with its code in clear, for printing (queued letters only). */
  printable(letter: Letter): Letter & { code?: string } {
    return { ...letter, sealedCode: undefined, code: letter.sealedCode ? this.box.decrypt(letter.sealedCode, this.sealContext(letter.id)) : undefined };
  }
}
