/**
 * The RegistryVerifier port: the check of SNILS and passport against the state registries (the
 * Pension Fund / Social Fund and the Interior Ministry) that raises an account to standard. A
 * check is asynchronous: submit returns a ticket, the ticket's status goes from pending to
 * approved or rejected (with a reason). A production connector implements this interface.
 */
import type { Passport, PersonName, VerifiedItem } from './account.ts';

export interface RegistryRequest {
  name: PersonName;
  birthDate: string;
  snils: string;
  passport: Passport;
}

/** What an approval vouches for: the items the request carries, nothing else (not INN, not the address). */
export const REGISTRY_ITEMS: VerifiedItem[] = ['name', 'birthdate', 'snils', 'id_doc'];

export type RegistryRejection = 'not_found' | 'mismatch' | 'invalid_passport';

export type RegistryStatus = { status: 'pending' } | { status: 'approved' } | { status: 'rejected'; reason: RegistryRejection };

export interface RegistryVerifier {
  readonly name: string;
  submit(request: RegistryRequest): Promise<string>;
  status(ticket: string): Promise<RegistryStatus>;
}

/**
 * The development registry: deterministic, so every outcome can be tried.
 * - a SNILS starting with 999 → rejected, `not_found` (no such person in the Social Fund);
 * - a passport series starting with 00 → rejected, `invalid_passport` (listed as invalid);
 * - surname «Несовпадающий» / «Несовпадающая» → rejected, `mismatch` (data differs from the registry);
 * - anything else → approved.
 * A decision becomes visible `delaySeconds` after submission (VKHOD_DEV_REGISTRY_DELAY_SECONDS).
 * The ticket carries the decision, so it survives restarts and works across processes.
 */
export class DevelopmentRegistry implements RegistryVerifier {
  readonly name = 'development-registry';

  constructor(private readonly delaySeconds: number) {}

  async submit(request: RegistryRequest): Promise<string> {
    let decision: RegistryStatus = { status: 'approved' };
    if (request.snils.startsWith('999')) decision = { status: 'rejected', reason: 'not_found' };
    else if (request.passport.series.startsWith('00')) decision = { status: 'rejected', reason: 'invalid_passport' };
    else if (/^несовпадающ/i.test(request.name.family)) decision = { status: 'rejected', reason: 'mismatch' };
    const readyAt = Date.now() + this.delaySeconds * 1000;
    return `dev.${Buffer.from(JSON.stringify({ decision, readyAt })).toString('base64url')}`;
  }

  async status(ticket: string): Promise<RegistryStatus> {
    if (!ticket.startsWith('dev.')) throw new Error('not a development registry ticket');
    const { decision, readyAt } = JSON.parse(Buffer.from(ticket.slice(4), 'base64url').toString('utf8')) as {
      decision: RegistryStatus;
      readyAt: number;
    };
    return Date.now() >= readyAt ? decision : { status: 'pending' };
  }
}
