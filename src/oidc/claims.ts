/**
 * Scopes → claims, and the claims an account releases (docs/claims.md is the reference for
 * relying parties). Standard OpenID scopes and ESIA-style ones; verified data also as OpenID
 * Connect for Identity Assurance `verified_claims`, never for data that was not verified.
 * oidc-provider filters by the granted scopes; `verified_claims` is filtered here by scope too.
 */
import type { Account, VerificationEvent, VerifiedItem } from '../accounts/account.ts';
import { fullName } from '../accounts/accounts.ts';
import { formatSnils } from '../accounts/snils.ts';
import { verifiedItems } from '../accounts/verification.ts';

export const TRUST_FRAMEWORK = 'ru_vkhod';
export const ESIA_SUBJECT_CLAIM = 'urn:esia:sbj';

/** Which identity items each scope releases. */
export const SCOPE_ITEMS: Record<string, VerifiedItem[]> = {
  profile: ['name', 'birthdate', 'gender'],
  fullname: ['name'],
  birthdate: ['birthdate'],
  gender: ['gender'],
  birthplace: ['birthplace'],
  snils: ['snils'],
  inn: ['inn'],
  id_doc: ['id_doc'],
  address: ['address'],
  addresses: ['address'],
};

const ITEM_CLAIMS: Record<VerifiedItem, string[]> = {
  name: ['family_name', 'given_name', 'middle_name', 'name'],
  birthdate: ['birthdate'],
  gender: ['gender'],
  birthplace: ['birthplace'],
  snils: ['snils'],
  inn: ['inn'],
  id_doc: ['id_document'],
  address: ['address'],
};

const CONTACT_SCOPES: Record<string, string[]> = {
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  mobile: ['phone_number', 'phone_number_verified'],
  contacts: ['email', 'email_verified', 'phone_number', 'phone_number_verified'],
};

/** Scopes in the order consent lists them. */
export const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub', 'account_level', ESIA_SUBJECT_CLAIM],
  ...Object.fromEntries(
    Object.entries(SCOPE_ITEMS).map(([scope, items]) => [
      scope,
      [...items.flatMap((i) => ITEM_CLAIMS[i]), ...(scope === 'profile' ? ['updated_at'] : []), 'verified_claims'],
    ]),
  ),
  ...CONTACT_SCOPES,
};

export const SCOPES = ['openid', 'offline_access', ...Object.keys(SCOPE_CLAIMS).filter((s) => s !== 'openid')];

/** What a client may ask for when its registration names no `scope`: nothing from an identity document. */
export const DEFAULT_CLIENT_SCOPE = 'openid offline_access profile email phone';

const LEVEL_LETTER = { simplified: 'S', standard: 'P', confirmed: 'C' } as const;

function itemClaims(account: Account, item: VerifiedItem): Record<string, unknown> {
  const i = account.identity ?? {};
  switch (item) {
    case 'name':
      return {
        family_name: account.name.family,
        given_name: account.name.given,
        middle_name: account.name.middle,
        name: fullName(account.name),
      };
    case 'birthdate':
      return { birthdate: i.birthDate };
    case 'gender':
      return { gender: i.gender };
    case 'birthplace':
      return { birthplace: i.birthPlace };
    case 'snils':
      return { snils: account.snils ? formatSnils(account.snils) : undefined };
    case 'inn':
      return { inn: i.inn };
    case 'id_doc':
      return {
        id_document: i.passport
          ? {
              type: 'RF_PASSPORT',
              series: i.passport.series,
              number: i.passport.number,
              issue_date: i.passport.issueDate,
              issuer: i.passport.issuer,
              department_code: i.passport.departmentCode,
            }
          : undefined,
      };
    case 'address':
      return { address: i.address ? { formatted: i.address.formatted, postal_code: i.address.postalCode, country: 'RU' } : undefined };
  }
}

/** OIDC4IDA evidence for a verification event. */
function evidence(event: VerificationEvent): Record<string, unknown> {
  // OIDC4IDA: evidence `time` is an ISO 8601 date-time, like verification.time.
  const base = { time: new Date(event.time).toISOString() };
  switch (event.method) {
    case 'registry':
      return {
        ...base,
        type: 'electronic_record',
        record: { type: 'state_registry', source: { name: String(event.evidence.registry ?? 'registry') } },
      };
    case 'service_centre':
      return {
        ...base,
        type: 'document',
        method: 'pipp',
        document_details: { type: 'ru_passport' },
        verifier: { organization: 'service_centre', txn: event.id },
      };
    case 'post':
      return { ...base, type: 'electronic_record', record: { type: 'postal_confirmation_code' } };
    case 'bank':
      return {
        ...base,
        type: 'electronic_record',
        record: { type: 'bank_account', source: { name: String(event.evidence.bank ?? 'bank') } },
      };
    case 'esignature':
      return {
        ...base,
        type: 'electronic_signature',
        signature_type: 'qes',
        issuer: event.evidence.issuer,
        serial_number: event.evidence.serialNumber,
      };
  }
}

/**
 * `verified_claims` for the items the granted scopes release and that a verification holding
 * for the current data vouches for, grouped per verification.
 */
export function verifiedClaims(account: Account, scopes: ReadonlySet<string>): Record<string, unknown>[] | undefined {
  const allowed = new Set([...scopes].flatMap((s) => SCOPE_ITEMS[s] ?? []));
  const byEvent = new Map<VerificationEvent, VerifiedItem[]>();
  for (const [item, event] of verifiedItems(account)) {
    if (!allowed.has(item)) continue;
    byEvent.set(event, [...(byEvent.get(event) ?? []), item]);
  }
  if (!byEvent.size) return undefined;
  return [...byEvent].map(([event, items]) => ({
    verification: {
      trust_framework: TRUST_FRAMEWORK,
      assurance_level: event.level,
      time: event.time,
      verification_process: event.id,
      evidence: [evidence(event)],
    },
    claims: Object.assign({}, ...items.map((item) => itemClaims(account, item))),
  }));
}

/** Whether the granted scopes release the person's name (the `fullname` consent, or `profile` which includes it). */
function releasesName(scopes: ReadonlySet<string>): boolean {
  return [...scopes].some((scope) => SCOPE_ITEMS[scope]?.includes('name'));
}

/**
 * ESIA's subject claim for clients registered with the compatibility switch. It rides on
 * `openid`, so `nam` is the real name only for a client that holds the consent to the name
 * (`fullname`); any other client gets a pseudonym derived from the account id it already has.
 */
export function esiaSubject(account: Account, scopes: ReadonlySet<string>): Record<string, unknown> {
  return {
    typ: 'P',
    oid: account.id,
    nam: releasesName(scopes) ? fullName(account.name) : `user-${account.id.replace(/-/g, '').slice(0, 12)}`,
    lvl: LEVEL_LETTER[account.level],
    ...(account.level === 'confirmed' ? { is_tru: true } : {}),
  };
}

/** Every claim the account can release for these scopes; unverified contacts carry `_verified: false`. */
export function accountClaims(
  account: Account,
  scopes: ReadonlySet<string>,
  options: { esiaCompat?: boolean } = {},
): Record<string, unknown> {
  const items: VerifiedItem[] = ['name', 'birthdate', 'gender', 'birthplace', 'snils', 'inn', 'id_doc', 'address'];
  return {
    sub: account.id,
    account_level: account.level,
    ...(options.esiaCompat ? { [ESIA_SUBJECT_CLAIM]: esiaSubject(account, scopes) } : {}),
    ...Object.assign({}, ...items.map((item) => itemClaims(account, item))),
    updated_at: Math.floor(Date.parse(account.updatedAt) / 1000),
    email: account.email,
    email_verified: account.email ? account.emailVerified : undefined,
    phone_number: account.phone,
    phone_number_verified: account.phone ? account.phoneVerified : undefined,
    verified_claims: verifiedClaims(account, scopes),
  };
}
