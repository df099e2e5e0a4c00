/**
 * What operators type, validated: a citizen search (SNILS or passport), the passport re-typed
 * for a confirmation, a letter status. Problems are UserErrors whose keys name a message in
 * `views/locales/*.json` (`admin.errors.*`), so the API and the pages tell the same thing.
 */
import { z } from 'zod';
import type { AccountKey, Letter } from '../store.ts';
import { normalizePassportNumber, normalizePassportSeries, passportKey } from '../accounts/passport.ts';
import { normalizeSnils } from '../accounts/snils.ts';
import { UserError } from '../web/errors.ts';

export const OFFICE_MAX = 200;

/** The body of a confirmation: the passport the operator holds, and where they work. */
export const confirmationSchema = z.strictObject(
  {
    passport_series: z
      .string({ error: 'admin.errors.passport_series' })
      .refine((v) => normalizePassportSeries(v) !== undefined, { error: 'admin.errors.passport_series' })
      .transform((v) => normalizePassportSeries(v)!),
    passport_number: z
      .string({ error: 'admin.errors.passport_number' })
      .refine((v) => normalizePassportNumber(v) !== undefined, { error: 'admin.errors.passport_number' })
      .transform((v) => normalizePassportNumber(v)!),
    office: z
      .string({ error: 'admin.errors.office' })
      .trim()
      .max(OFFICE_MAX, { error: 'admin.errors.office' })
      .refine((v) => !/\p{Cc}/u.test(v), { error: 'admin.errors.office' })
      .optional()
      .transform((v) => v || undefined),
  },
  { error: 'admin.errors.body_object' },
);

export type Confirmation = z.output<typeof confirmationSchema>;

/** The body of an operator's deletion: why (a written request, a court order …). */
export const deletionSchema = z.strictObject(
  {
    reason: z
      .string({ error: 'admin.errors.deletion_reason' })
      .trim()
      .min(1, { error: 'admin.errors.deletion_reason' })
      .max(500, { error: 'admin.errors.deletion_reason' })
      .refine((v) => !/\p{Cc}/u.test(v), { error: 'admin.errors.deletion_reason' }),
  },
  { error: 'admin.errors.body_object' },
);

/** Validates with `schema`; the first problem becomes a 400 with its message key. */
export function parseOrRefuse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') throw new UserError(400, 'admin.errors.unknown_fields', { fields: issue.keys.join(', ') });
  if (issue.path.length === 0) throw new UserError(400, 'admin.errors.body_object');
  throw new UserError(400, issue.message.startsWith('admin.errors.') ? issue.message : 'admin.errors.invalid_body');
}

/**
 * The account key to search by: exactly one of `snils` (11 digits with valid check digits, with
 * or without separators) or `passport` (series and number, 10 digits, spaces allowed).
 */
export function citizenQuery(input: { snils?: unknown; passport?: unknown }): AccountKey {
  const given = (v: unknown) => (Array.isArray(v) ? true : typeof v === 'string' && v.trim() !== '');
  const hasSnils = given(input.snils);
  const hasPassport = given(input.passport);
  if (hasSnils === hasPassport || Array.isArray(input.snils) || Array.isArray(input.passport))
    throw new UserError(400, 'admin.errors.search_one');
  if (hasSnils) {
    const snils = normalizeSnils(String(input.snils).slice(0, 32));
    if (!snils) throw new UserError(400, 'admin.errors.snils');
    return { kind: 'snils', value: snils };
  }
  const digits = String(input.passport).slice(0, 32).replace(/[\s-]/g, '');
  if (!/^\d{10}$/.test(digits)) throw new UserError(400, 'admin.errors.passport');
  return { kind: 'passport', value: passportKey(digits.slice(0, 4), digits.slice(4)) };
}

export function letterStatus(input: unknown): Letter['status'] {
  if (input === undefined || input === '') return 'queued';
  if (input === 'queued' || input === 'sent' || input === 'cancelled') return input;
  throw new UserError(400, 'admin.errors.letter_status');
}
