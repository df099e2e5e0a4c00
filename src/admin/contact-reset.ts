/**
 * Recovery at a service centre (no phone, no e-mail, no e-signature): the operator has the
 * passport in front of them, re-types its series and number — it must be the account's passport,
 * verified (by the registry or better) — and sets a new confirmed mobile or e-mail. The passport
 * in front of the operator outranks everything the account held: the other contact is no longer
 * confirmed and every second factor (authenticator app, passkeys, recovery codes) is removed, so
 * whoever had taken the account over keeps no way back in; every session and token ends. The
 * citizen then sets a password by a code to the new contact on the ordinary recovery page and
 * enrols a second factor again.
 */
import { z } from 'zod';
import type { Accounts } from '../accounts/accounts.ts';
import { parseContact, type Contact } from '../accounts/contacts.ts';
import { verifiedItems } from '../accounts/verification.ts';
import type { AuditTrail } from '../security/audit.ts';
import { DuplicateKeyError, type Store } from '../store.ts';
import type { Account } from '../accounts/account.ts';
import { UserError } from '../web/errors.ts';
import { confirmationSchema } from './input.ts';
import { operatorActor, type Operator } from './operators.ts';

export const contactResetSchema = z.strictObject(
  {
    ...confirmationSchema.shape,
    contact: z
      .string({ error: 'admin.errors.contact' })
      .max(256, { error: 'admin.errors.contact' })
      .refine((v) => parseContact(v) !== undefined, { error: 'admin.errors.contact' })
      .transform((v) => parseContact(v)!),
  },
  { error: 'admin.errors.body_object' },
);

export type ContactReset = z.output<typeof contactResetSchema>;

export async function resetContact(
  deps: { store: Store; accounts: Accounts; audit: AuditTrail },
  accountId: string,
  input: ContactReset,
  operator: Operator,
  ip: string,
): Promise<{ account: Account; contact: Contact }> {
  const actor = operatorActor(operator);
  const account = accountId.length <= 64 ? await deps.accounts.findActive(accountId) : undefined;
  if (!account) throw new UserError(404, 'admin.errors.account_not_found');
  const refuse = async (status: number, key: string, reason: string): Promise<never> => {
    await deps.audit.record({ type: 'admin.contact_reset', accountId, actor, ip, outcome: 'failure', details: { reason } });
    throw new UserError(status, key);
  };
  const passport = account.identity?.passport;
  if (!passport || !verifiedItems(account).has('id_doc')) return refuse(409, 'admin.errors.passport_not_verified', 'passport_not_verified');
  if (passport.series !== input.passport_series || passport.number !== input.passport_number)
    return refuse(409, 'admin.errors.passport_mismatch', 'passport_mismatch');
  const { contact } = input;
  const now = new Date().toISOString();
  let updated: Account;
  try {
    updated = await deps.accounts.modify(
      accountId,
      (a) => ({
        ...a,
        ...(contact.kind === 'phone'
          ? { phone: contact.value, phoneVerified: true, emailVerified: false }
          : { email: contact.value, emailVerified: true, phoneVerified: false }),
        totp: undefined,
        passkeys: undefined,
        recoveryCodes: undefined,
        mfa: { enabled: false },
        sessionsValidAfter: now,
      }),
      {
        type: 'contact.set_by_operator',
        actor,
        ip,
        outcome: 'success',
        details: {
          kind: contact.kind,
          other_contact_unconfirmed: Boolean(
            contact.kind === 'phone' ? account.email && account.emailVerified : account.phone && account.phoneVerified,
          ),
          factors_removed: [
            account.totp && 'totp',
            account.passkeys?.length && 'passkeys',
            account.recoveryCodes && 'recovery_codes',
          ].filter(Boolean),
          ...(input.office ? { office: input.office } : {}),
        },
      },
    );
  } catch (err) {
    if (err instanceof DuplicateKeyError) return refuse(409, 'admin.errors.contact_taken', 'contact_taken');
    throw err;
  }
  await deps.store.revokeOidcByAccountId(accountId);
  return { account: updated, contact };
}
