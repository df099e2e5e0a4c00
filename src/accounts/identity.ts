/**
 * Identity data a citizen enters to raise the account (DESIGN §2): validated field by field with
 * a problem key per field (texts in views/locales, `identity.problems.*`).
 */
import type { IdentityData, Passport, PersonName } from './account.ts';
import { checkName } from './names.ts';
import { ageOn, looksLikeDate, parseDate, today } from './dates.ts';
import { normalizeInn } from './inn.ts';
import { normalizeDepartmentCode, normalizePassportNumber, normalizePassportSeries } from './passport.ts';
import { normalizeSnils } from './snils.ts';

export const IDENTITY_FIELDS = [
  'birth_date',
  'gender',
  'birth_place',
  'snils',
  'inn',
  'passport_series',
  'passport_number',
  'passport_issue_date',
  'passport_issuer',
  'passport_department_code',
  'address',
  'postal_code',
] as const;
export type IdentityField = (typeof IDENTITY_FIELDS)[number];
export type IdentityForm = Partial<Record<IdentityField, string>>;

const TEXT = /^[А-ЯЁа-яё0-9][А-ЯЁа-яё0-9 .,'’()№"«»/-]*$/u;
export const MIN_AGE = 14;
export const MAX_AGE = 125;

export interface CheckedIdentity {
  snils?: string;
  identity: IdentityData;
  errors: Partial<Record<IdentityField, string>>;
}

/**
 * Validates the identity form. SNILS, birth date, gender, place of birth and the passport are
 * required (the registry checks them); INN and the address are optional.
 */
export function checkIdentity(form: IdentityForm, now = today()): CheckedIdentity {
  const errors: CheckedIdentity['errors'] = {};
  // NFC: a letter typed as a base letter and a combining mark (й, ё) is that letter.
  const value = (f: IdentityField) => (form[f] ?? '').normalize('NFC').trim();
  const identity: IdentityData = {};

  const birth = parseDate(value('birth_date'));
  if (!value('birth_date')) errors.birth_date = 'required';
  else if (!birth) errors.birth_date = looksLikeDate(value('birth_date')) ? 'no_such_date' : 'bad_date';
  else if (birth > now) errors.birth_date = 'future_date';
  else if (ageOn(birth, now) < MIN_AGE) errors.birth_date = 'too_young';
  else if (ageOn(birth, now) > MAX_AGE) errors.birth_date = 'too_old';
  else identity.birthDate = birth;

  const gender = value('gender');
  if (gender === 'male' || gender === 'female') identity.gender = gender;
  else errors.gender = 'required';

  const birthPlace = value('birth_place').replace(/\s+/g, ' ');
  if (!birthPlace) errors.birth_place = 'required';
  else if (birthPlace.length > 200) errors.birth_place = 'too_long';
  else if (!TEXT.test(birthPlace)) errors.birth_place = 'not_cyrillic';
  else identity.birthPlace = birthPlace;

  const snils = normalizeSnils(value('snils'));
  if (!value('snils')) errors.snils = 'required';
  else if (!snils) errors.snils = 'bad_snils';

  if (value('inn')) {
    const inn = normalizeInn(value('inn'));
    if (inn) identity.inn = inn;
    else errors.inn = 'bad_inn';
  }

  const passport: Partial<Passport> = {};
  const series = normalizePassportSeries(value('passport_series'));
  if (!value('passport_series')) errors.passport_series = 'required';
  else if (!series) errors.passport_series = 'bad_series';
  else passport.series = series;
  const number = normalizePassportNumber(value('passport_number'));
  if (!value('passport_number')) errors.passport_number = 'required';
  else if (!number) errors.passport_number = 'bad_number';
  else passport.number = number;
  const issued = parseDate(value('passport_issue_date'));
  if (!value('passport_issue_date')) errors.passport_issue_date = 'required';
  else if (!issued) errors.passport_issue_date = looksLikeDate(value('passport_issue_date')) ? 'no_such_date' : 'bad_date';
  else if (issued > now) errors.passport_issue_date = 'future_date';
  // Judged against an accepted birth date only: a wrong birth date is reported once, on its own field.
  else if (identity.birthDate && ageOn(identity.birthDate, issued) < MIN_AGE) errors.passport_issue_date = 'before_14';
  else passport.issueDate = issued;
  const issuer = value('passport_issuer').replace(/\s+/g, ' ');
  if (!issuer) errors.passport_issuer = 'required';
  else if (issuer.length > 200) errors.passport_issuer = 'too_long';
  else if (!TEXT.test(issuer)) errors.passport_issuer = 'not_cyrillic';
  else passport.issuer = issuer;
  const code = normalizeDepartmentCode(value('passport_department_code'));
  if (!value('passport_department_code')) errors.passport_department_code = 'required';
  else if (!code) errors.passport_department_code = 'bad_department_code';
  else passport.departmentCode = code;
  if (passport.series && passport.number && passport.issueDate && passport.issuer && passport.departmentCode)
    identity.passport = passport as Passport;

  const address = value('address').replace(/\s+/g, ' ');
  const postal = value('postal_code');
  if (address) {
    if (address.length > 300) errors.address = 'too_long';
    else if (!TEXT.test(address)) errors.address = 'not_cyrillic';
    else identity.address = { formatted: address, ...(postal ? { postalCode: postal } : {}) };
  }
  if (postal && !/^\d{6}$/.test(postal)) errors.postal_code = 'bad_postal_code';

  return { snils, identity, errors };
}

export interface IdentitySubmission {
  name?: PersonName;
  snils?: string;
  identity: IdentityData;
  /** field → problem key: `names.*` for name fields, `identity.problems.*` for the rest */
  errors: Record<string, string>;
  /** the raw values, to show the form again */
  values: Record<string, string>;
}

/** A whole identity form (name + identity fields), as a citizen or an operator submits it. */
export function checkIdentitySubmission(body: Record<string, unknown>, now = today()): IdentitySubmission {
  const values: Record<string, string> = {};
  for (const field of ['family', 'given', 'middle', ...IDENTITY_FIELDS]) {
    const raw = body[field];
    values[field] = typeof raw === 'string' ? raw.slice(0, 400) : '';
  }
  const errors: Record<string, string> = {};
  const name: Partial<PersonName> = {};
  for (const field of ['family', 'given', 'middle'] as const) {
    const checked = checkName(values[field], field !== 'middle');
    if (checked.problem) errors[field] = `names.${checked.problem}`;
    else if (checked.value) name[field] = checked.value;
  }
  const checked = checkIdentity(values, now);
  for (const [field, problem] of Object.entries(checked.errors)) errors[field] = `identity.problems.${problem}`;
  return {
    name: errors.family || errors.given || errors.middle ? undefined : (name as PersonName),
    snils: checked.snils,
    identity: checked.identity,
    errors,
    values,
  };
}
