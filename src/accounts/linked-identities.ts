/**
 * Accounts and the identities outside vkhod that vouch for them: bank profiles (linked by the
 * key `fed:<bank id>` = the bank's subject) and qualified certificates. Creating an account from
 * such data, linking, unlinking and confirming the account with it — each one write with its
 * audit events in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { DuplicateKeyError, type AuditEvent, type Store } from '../store.ts';
import type { Account, VerificationEvent, VerifiedItem } from './account.ts';
import { auditEvent } from '../security/audit.ts';
import type { Accounts } from './accounts.ts';
import { profileItems, withProfile, type ExternalProfile } from './external-identity.ts';
import type { Levels } from './levels.ts';
import { passportKey } from './passport.ts';
import { boundToPerson, identityFingerprint, itemDigest, newVerification, verifiedItems, withDerivedLevel } from './verification.ts';

export type LinkProblem =
  /** the account already has another profile of this bank */
  | 'already_linked'
  /** this bank profile belongs to another account */
  | 'linked_elsewhere'
  /** unlinking would leave no way to sign in */
  | 'last_way_in'
  | 'not_linked'
  /** the data belongs to another account (SNILS, passport) */
  | 'conflict'
  /** not enough data to make an account (no valid name) */
  | 'no_identity';

export class LinkError extends Error {
  constructor(readonly code: LinkProblem) {
    super(code);
    this.name = 'LinkError';
  }
}

export interface ExternalLink {
  provider: string;
  subject: string;
}

export interface ExternalVerification {
  method: Extract<VerificationEvent['method'], 'bank' | 'esignature'>;
  actor: string;
  evidence: Record<string, unknown>;
  items?: VerifiedItem[];
}

/** A qualified certificate the citizen signed with (kept on the account to show in the cabinet). */
export interface LinkedCertificate {
  issuer: string;
  serialNumber: string;
  notAfter: string;
  linkedAt: string;
}

export function certificatesOf(account: Account): LinkedCertificate[] {
  const list = account.extra?.certificates;
  return Array.isArray(list) ? (list as LinkedCertificate[]) : [];
}

/** The account with this certificate remembered (once per issuer + serial). */
export function withCertificate(account: Account, certificate: Omit<LinkedCertificate, 'linkedAt'>): Account {
  const list = certificatesOf(account);
  if (list.some((c) => c.issuer === certificate.issuer && c.serialNumber === certificate.serialNumber)) return account;
  return { ...account, extra: { ...account.extra, certificates: [...list, { ...certificate, linkedAt: new Date().toISOString() }] } };
}

/**
 * True when the account's SNILS is known to be its holder's, so that a certificate with that
 * SNILS may sign in to it on its own: a verification that still holds binds the SNILS to the person
 * (a service centre, a letter, a bank, an e-signature — not the registry alone), or
 * this very certificate was used on the account before, or an e-signature verified this SNILS on
 * it (the data changed since in some other item). A SNILS that was only typed in proves nothing:
 * anyone can type someone else's and wait for them to sign in with their certificate.
 */
export function snilsProvenFor(account: Account, certificate: { issuer: string; serialNumber: string }): boolean {
  // Not the registry alone: it says the data is real, not that this account's holder is that
  // person — someone can type another's true data, pass the check and wait for their certificate.
  // Bound to the person: by a source that saw them, or by the registry on a confirmed account (the
  // registry tied the SNILS to the passport a confirming source bound to the person).
  if (boundToPerson(account, 'snils')) return true;
  if (account.level === 'confirmed' && verifiedItems(account).has('snils')) return true;
  if (certificatesOf(account).some((c) => c.issuer === certificate.issuer && c.serialNumber === certificate.serialNumber)) return true;
  if (!account.snils) return false;
  const snils = itemDigest(account, 'snils');
  return (account.verifications ?? []).some(
    (v) => v.method === 'esignature' && v.items.includes('snils') && v.itemDigests?.snils === snils,
  );
}

/** The account with the bank identity linked (unchanged when it is already); another identity of that bank refuses. */
export function withFederation(a: Account, link: ExternalLink): Account {
  const existing = a.federations?.find((f) => f.provider === link.provider);
  if (existing && existing.subject !== link.subject) throw new LinkError('already_linked');
  if (existing) return a;
  return { ...a, federations: [...(a.federations ?? []), { ...link, linkedAt: new Date().toISOString() }] };
}

export interface CreateInput {
  profile: ExternalProfile;
  /** how the account came to be: `bank:<id>` or `esignature` */
  via: string;
  link?: ExternalLink;
  certificate?: Omit<LinkedCertificate, 'linkedAt'>;
  verification?: ExternalVerification;
  ip?: string;
  clientId?: string;
}

export class LinkedIdentities {
  constructor(
    private readonly store: Store,
    private readonly accounts: Accounts,
    private readonly levels: Levels,
  ) {}

  /**
   * A new account from external data: no password; only contacts the source says are verified
   * and that no other account uses; confirmed at once when a verification comes with it.
   */
  async create(input: CreateInput): Promise<Account> {
    const { profile } = input;
    if (!profile.name) throw new LinkError('no_identity');
    // A SNILS another account holds verified is that account's; one only typed in elsewhere is not in the way.
    if (profile.snils && (await this.accounts.findByKey({ kind: 'snils', value: profile.snils }))) throw new LinkError('conflict');
    const now = new Date().toISOString();
    let account: Account = withProfile(
      {
        id: randomUUID(),
        version: 1,
        status: 'active',
        level: 'simplified',
        name: profile.name,
        phoneVerified: false,
        emailVerified: false,
        createdAt: now,
        updatedAt: now,
      },
      profile,
    );
    // A passport another account holds verified stays out (the service centre sorts that out in person).
    const passport = account.identity?.passport;
    if (passport && (await this.accounts.findByKey({ kind: 'passport', value: passportKey(passport.series, passport.number) }))) {
      account = { ...account, identity: { ...account.identity, passport: undefined } };
    }
    if (profile.phone?.verified && !(await this.store.accounts.findByKey({ kind: 'phone', value: profile.phone.value })))
      account = { ...account, phone: profile.phone.value, phoneVerified: true };
    if (profile.email?.verified && !(await this.store.accounts.findByKey({ kind: 'email', value: profile.email.value })))
      account = { ...account, email: profile.email.value, emailVerified: true };
    if (input.link) account = { ...account, federations: [{ ...input.link, linkedAt: now }] };
    if (input.certificate) account = withCertificate(account, input.certificate);

    const base = { accountId: account.id, ip: input.ip, clientId: input.clientId, outcome: 'success' as const };
    const events: AuditEvent[] = [
      auditEvent({ ...base, type: 'account.registered', actor: 'self', details: { via: input.via, level: 'simplified' } }),
    ];
    if (input.link)
      events.push(auditEvent({ ...base, type: 'federation.linked', actor: 'self', details: { provider: input.link.provider } }));
    if (input.verification) {
      const v = input.verification;
      const items = (v.items ?? profileItems(profile)).filter((item) => item !== 'id_doc' || account.identity?.passport);
      account = withDerivedLevel({
        ...account,
        verifications: [newVerification(account, { method: v.method, level: 'confirmed', actor: v.actor, evidence: v.evidence, items })],
      });
      events.push(auditEvent({ ...base, type: 'level.verified', actor: v.actor, details: { method: v.method, level: 'confirmed' } }));
      if (account.level !== 'simplified')
        events.push(
          auditEvent({
            ...base,
            type: 'level.changed',
            actor: v.actor,
            details: { method: v.method, from: 'simplified', to: account.level },
          }),
        );
    }
    try {
      await this.accounts.createWith(account, events);
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new LinkError(err.key?.kind.startsWith('fed:') ? 'linked_elsewhere' : 'conflict');
      throw err;
    }
    // The numbers the source vouched for are this person's: taken from accounts that only typed them in.
    await this.levels.releaseToOwner(account, input.ip);
    return account;
  }

  /** Links a bank profile to the account. */
  async link(accountId: string, link: ExternalLink, ip?: string): Promise<Account> {
    try {
      return await this.accounts.modify(
        accountId,
        (a) => withFederation(a, link),
        (before, after) =>
          before.federations?.length === after.federations?.length
            ? []
            : [{ type: 'federation.linked', actor: 'self', ip, outcome: 'success', details: { provider: link.provider } }],
      );
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new LinkError('linked_elsewhere');
      throw err;
    }
  }

  /** Unlinks a bank, unless it is the only way left to sign in. */
  async unlink(accountId: string, provider: string, ip?: string): Promise<Account> {
    return this.accounts.modify(
      accountId,
      (a) => {
        const rest = (a.federations ?? []).filter((f) => f.provider !== provider);
        if (rest.length === (a.federations ?? []).length) throw new LinkError('not_linked');
        if (!a.passwordHash && !a.passkeys?.length && !rest.length) throw new LinkError('last_way_in');
        return { ...a, federations: rest };
      },
      { type: 'federation.unlinked', actor: 'self', ip, outcome: 'success', details: { provider } },
    );
  }

  /**
   * Stores the profile's identity data on the account and confirms it, in one write — unless a
   * confirmation from the same source already holds for exactly that data. `also` adds more to
   * the same write (e.g. the certificate used).
   */
  async confirm(
    account: Account,
    profile: ExternalProfile,
    verification: ExternalVerification,
    ip?: string,
    also: (a: Account) => Account = (a) => a,
  ): Promise<Account> {
    const fingerprint = identityFingerprint(withProfile(account, profile));
    const holds = (account.verifications ?? []).some(
      (v) => v.method === verification.method && v.actor === verification.actor && v.level === 'confirmed' && v.fingerprint === fingerprint,
    );
    if (holds && account.level === 'confirmed' && also(account) === account) return account;
    try {
      return await this.levels.record(
        account.id,
        {
          method: verification.method,
          actor: verification.actor,
          evidence: verification.evidence,
          items: verification.items ?? profileItems(profile),
          ip,
        },
        'confirmed',
        (a) => also(withProfile(a, profile)),
      );
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new LinkError('conflict');
      throw err;
    }
  }
}
