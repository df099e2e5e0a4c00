/**
 * Scopes → claims, and the claims an account releases (docs/claims.md is the reference for
 * relying parties). Standard OpenID scopes and ESIA-style ones; verified data also as OpenID
 * Connect for Identity Assurance `verified_claims`, never for data that was not verified.
 * oidc-provider filters by the granted scopes; `verified_claims` is filtered here by scope too.
 */
import type { Account, VerificationEvent, VerificationMethod, VerifiedItem } from '../accounts/account.ts';
import { fullName } from '../accounts/accounts.ts';
import { formatSnils } from '../accounts/snils.ts';
import { SOURCE_ITEMS, verifiedItems } from '../accounts/verification.ts';

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
 * OpenID Connect for Identity Assurance 1.0's OP metadata (discovery): what `verified_claims` can
 * hold here. Derived from the evidence each verification method gives and from the item claims,
 * so it cannot say other than what is released.
 */
export function identityAssuranceMetadata(): Record<string, unknown> {
  const methods = Object.keys(SOURCE_ITEMS) as VerificationMethod[];
  const samples = methods.map((method) =>
    evidence({ method, time: new Date(0).toISOString(), evidence: {} } as unknown as VerificationEvent),
  );
  const unique = (values: unknown[]) => [...new Set(values.filter((v): v is string => typeof v === 'string'))];
  const of = (type: string, pick: (e: Record<string, unknown>) => unknown) => unique(samples.filter((e) => e.type === type).map(pick));
  return {
    verified_claims_supported: true,
    trust_frameworks_supported: [TRUST_FRAMEWORK],
    evidence_supported: unique(samples.map((e) => e.type)),
    documents_supported: of('document', (e) => (e.document_details as { type?: unknown } | undefined)?.type),
    electronic_records_supported: of('electronic_record', (e) => (e.record as { type?: unknown } | undefined)?.type),
    claims_in_verified_claims_supported: unique(Object.values(ITEM_CLAIMS).flat()),
  };
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
      // The level this verification gives the account now: never above the account's own (a
      // certificate vouches for a name and a SNILS, but an account with an unchecked passport is
      // not confirmed by it); none while the account is simplified.
      ...(account.level === 'simplified' ? {} : { assurance_level: account.level === 'standard' ? 'standard' : event.level }),
      time: event.time,
      verification_process: event.id,
      evidence: [evidence(event)],
    },
    claims: Object.assign({}, ...items.map((item) => itemClaims(account, item))),
  }));
}

/**
 * ESIA's subject claim, in ESIA's own shape: `urn:esia:sbj:typ` "P", `urn:esia:sbj:oid` the
 * account's numeric oid (the one the ESIA profile uses, src/esia), `urn:esia:sbj:nam` the
 * pseudonym "OID.<oid>" (never the name: the name is released by `fullname` only, as its own
 * claims), and `urn:esia:sbj:is_tru` only for a confirmed account. Shared by the OIDC side
 * (clients with `vkhod_esia_compat`) and the ESIA profile's ID token.
 */
export function esiaSubject(oid: number, level: Account['level']): Record<string, unknown> {
  return {
    'urn:esia:sbj:typ': 'P',
    'urn:esia:sbj:oid': oid,
    'urn:esia:sbj:nam': `OID.${oid}`,
    ...(level === 'confirmed' ? { 'urn:esia:sbj:is_tru': true } : {}),
  };
}

/** Every claim the account can release for these scopes; unverified contacts carry `_verified: false`. */
export function accountClaims(
  account: Account,
  scopes: ReadonlySet<string>,
  /** `esiaOid`: the account's oid, for a client registered with `vkhod_esia_compat` (urn:esia:sbj) */
  options: { esiaOid?: number } = {},
): Record<string, unknown> {
  const items: VerifiedItem[] = ['name', 'birthdate', 'gender', 'birthplace', 'snils', 'inn', 'id_doc', 'address'];
  return {
    sub: account.id,
    account_level: account.level,
    ...(options.esiaOid !== undefined ? { [ESIA_SUBJECT_CLAIM]: esiaSubject(options.esiaOid, account.level) } : {}),
    ...Object.assign({}, ...items.map((item) => itemClaims(account, item))),
    // An account from before profileUpdatedAt: its last write (never earlier than what was released before).
    updated_at: Math.floor(Date.parse(account.profileUpdatedAt ?? account.updatedAt) / 1000),
    email: account.email,
    email_verified: account.email ? account.emailVerified : undefined,
    phone_number: account.phone,
    phone_number_verified: account.phone ? account.phoneVerified : undefined,
    verified_claims: verifiedClaims(account, scopes),
  };
}
