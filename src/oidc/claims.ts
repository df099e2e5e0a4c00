/**
 * Scopes → claims, and the claims an account releases (docs/claims.md is the reference for
 * relying parties). Standard OpenID scopes and ESIA-style ones; verified data also as OpenID
 * Connect for Identity Assurance `verified_claims`, never for data that was not verified.
 * oidc-provider filters by the granted scopes; `verified_claims` is filtered here by scope too, or
 * by what an OIDC4IDA request asks for (the claims it names, the conditions it sets).
 */
import type { Account, VerificationEvent, VerificationMethod, VerifiedItem } from '../accounts/account.ts';
import { fullName } from '../accounts/accounts.ts';
import { formatSnils } from '../accounts/snils.ts';
import { itemVerifications, SOURCE_ITEMS, verifiedItems } from '../accounts/verification.ts';

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

/** What a verification says of itself in `verified_claims` (OIDC4IDA's `verification` element). */
function verificationOf(account: Account, event: VerificationEvent): Record<string, unknown> {
  return {
    trust_framework: TRUST_FRAMEWORK,
    // The level this verification gives the account now: never above the account's own (a
    // certificate vouches for a name and a SNILS, but an account with an unchecked passport is
    // not confirmed by it); none while the account is simplified.
    ...(account.level === 'simplified' ? {} : { assurance_level: account.level === 'standard' ? 'standard' : event.level }),
    time: event.time,
    verification_process: event.id,
    evidence: [evidence(event)],
  };
}

/** One element of an OIDC4IDA `verified_claims` request: the claims it wants, and what it asks of the verification. */
export interface VerifiedClaimsRequest {
  verification: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** A claims request (a `verified_claims` member, a `purpose`) that cannot be read; the message tells the relying party what is wrong. */
export class ClaimsRequestError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Words of a member request that are conditions or notes, not sub-elements. */
const REQUEST_WORDS = new Set(['value', 'values', 'max_age', 'essential', 'purpose']);

/** Length of a claim's `purpose`, in characters (OIDC4IDA §6.1: the request fails outside it). */
const PURPOSE_LENGTH = { min: 3, max: 300 };

/** A member request's `purpose`, when there: text the citizen is shown on the consent page. */
export function checkPurpose(where: string, request: Record<string, unknown>): void {
  if (!Object.hasOwn(request, 'purpose')) return;
  const length = typeof request.purpose === 'string' ? [...request.purpose].length : -1;
  if (length < PURPOSE_LENGTH.min || length > PURPOSE_LENGTH.max)
    throw new ClaimsRequestError(`${where}.purpose must be a string of ${PURPOSE_LENGTH.min} to ${PURPOSE_LENGTH.max} characters`);
}

/** The claims parameter as the provider keeps it in a request's params (JSON text), parsed; undefined when it is not JSON. */
export function parseClaimsParameter(claims: unknown): unknown {
  if (typeof claims !== 'string') return claims;
  try {
    return JSON.parse(claims);
  } catch {
    return undefined;
  }
}

/**
 * The purposes a claims parameter (the JSON text or the parsed object) gives for the claims it
 * asks for, ID token and userinfo, those inside `verified_claims` too — once per claim and text.
 */
export function claimPurposes(claimsParameter: unknown): Array<{ claim: string; purpose: string }> {
  const claims = parseClaimsParameter(claimsParameter);
  const found = new Map<string, { claim: string; purpose: string }>();
  const add = (members: unknown) => {
    if (!isObject(members)) return;
    for (const [claim, request] of Object.entries(members)) {
      if (claim === 'verified_claims') {
        for (const inner of Array.isArray(request) ? request : [request]) add(member(inner, 'claims'));
      } else if (isObject(request) && typeof request.purpose === 'string') {
        found.set(`${claim}\n${request.purpose}`, { claim, purpose: request.purpose });
      }
    }
  };
  add(member(claims, 'id_token'));
  add(member(claims, 'userinfo'));
  return [...found.values()];
}

/** `null`, or an object whose `value`, `values`, `max_age` and `purpose` (when there) have OIDC4IDA's types. */
function checkMemberRequest(where: string, request: unknown): void {
  if (request === null) return;
  if (!isObject(request)) throw new ClaimsRequestError(`${where} must be null or an object`);
  checkPurpose(where, request);
  if ('value' in request && typeof request.value !== 'string') throw new ClaimsRequestError(`${where}.value must be a string`);
  if ('values' in request && !(Array.isArray(request.values) && request.values.every((v) => typeof v === 'string')))
    throw new ClaimsRequestError(`${where}.values must be an array of strings`);
  if ('max_age' in request && !(Number.isSafeInteger(request.max_age) && (request.max_age as number) >= 0))
    throw new ClaimsRequestError(`${where}.max_age must be a whole number of seconds`);
  for (const [name, sub] of Object.entries(request))
    if (!REQUEST_WORDS.has(name) && sub !== null) checkMemberRequest(`${where}.${name}`, sub);
}

/**
 * A `verified_claims` member of the claims parameter, read as OIDC4IDA's request: an object with
 * `claims` (at least one claim) and `verification` (what is asked of it: members with `null`,
 * `value`, `values`, `max_age`). `null` or a plain OpenID Connect member request
 * (`{"essential": true}`) is not such a request: what the scopes release is released. An array of
 * request objects, which node-oidc-provider's claims handling cannot carry, is refused.
 */
export function verifiedClaimsRequest(value: unknown): VerifiedClaimsRequest | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value))
    throw new ClaimsRequestError('verified_claims as an array is not supported: send one request object with every claim in its claims');
  if (!isObject(value)) throw new ClaimsRequestError('verified_claims must be null or an object');
  if (!('claims' in value) && !('verification' in value)) return undefined;
  const { claims, verification = null } = value;
  if (!isObject(claims) || !Object.keys(claims).length)
    throw new ClaimsRequestError('verified_claims.claims must be an object naming at least one claim');
  for (const [name, request] of Object.entries(claims)) checkMemberRequest(`verified_claims.claims.${name}`, request);
  if (verification !== null && !isObject(verification)) throw new ClaimsRequestError('verified_claims.verification must be an object');
  for (const [name, request] of Object.entries(verification ?? {})) {
    if (name !== 'evidence') {
      checkMemberRequest(`verified_claims.verification.${name}`, request);
    } else if (request !== null) {
      if (!Array.isArray(request) || !request.length || !request.every(isObject))
        throw new ClaimsRequestError('verified_claims.verification.evidence must be an array of objects');
      request.forEach((e, i) => checkMemberRequest(`verified_claims.verification.evidence[${i}]`, e));
    }
  }
  return { verification: verification ?? {}, claims };
}

const member = (actual: unknown, name: string): unknown => (isObject(actual) && Object.hasOwn(actual, name) ? actual[name] : undefined);

/** The value meets the member request's `value`, `values` and `max_age` (seconds since a date-time), and its sub-elements theirs. */
function meets(request: unknown, actual: unknown, now: number): boolean {
  if (!isObject(request)) return true;
  if ('value' in request && request.value !== actual) return false;
  if (Array.isArray(request.values) && !request.values.includes(actual)) return false;
  if (typeof request.max_age === 'number' && !(now - Date.parse(String(actual)) <= request.max_age * 1000)) return false;
  return Object.entries(request).every(([name, sub]) => REQUEST_WORDS.has(name) || meets(sub, member(actual, name), now));
}

/** Of a value, the sub-members the request names (theirs likewise); the whole value when it names none. */
function namedPart(request: unknown, actual: unknown): unknown {
  if (!isObject(request) || !isObject(actual)) return actual;
  const named = Object.keys(request).filter((name) => !REQUEST_WORDS.has(name) && Object.hasOwn(actual, name));
  return named.length ? Object.fromEntries(named.map((name) => [name, namedPart(request[name], actual[name])])) : actual;
}

/**
 * The verification as the request asks for it: `trust_framework` always, other members only when
 * asked for; evidence only the pieces that meet one of the requested ones, each with its `type` and
 * the members that one names. Undefined when a condition is not met (`value`, `values`, `max_age`).
 */
function requestedVerification(
  asked: Record<string, unknown>,
  verification: Record<string, unknown>,
  now: number,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = { trust_framework: verification.trust_framework };
  for (const [name, request] of Object.entries(asked)) {
    const actual = member(verification, name);
    if (name === 'evidence' && Array.isArray(request)) {
      const pieces = (actual as Array<Record<string, unknown>>).flatMap((piece) => {
        const match = request.find((r) => meets(r, piece, now));
        return match ? [{ type: piece.type, ...(namedPart(match, piece) as Record<string, unknown>) }] : [];
      });
      if (!pieces.length) return undefined;
      out.evidence = pieces;
      continue;
    }
    if (!meets(request, actual, now)) return undefined;
    if (actual !== undefined) out[name] = actual;
  }
  return out;
}

/** The verified claims an account may release: those of the granted scopes, and claims the citizen allowed one by one. */
export function releasableClaims(scopes: ReadonlySet<string>, grantedClaims: readonly string[]): Set<string> {
  return new Set([...[...scopes].flatMap((s) => (SCOPE_ITEMS[s] ?? []).flatMap((i) => ITEM_CLAIMS[i])), ...grantedClaims]);
}

/** The claim names a claims parameter asks for inside `verified_claims` (ID token and userinfo), which vkhod can verify. */
export function claimsInVerifiedClaimsRequest(claimsParameter: unknown): string[] {
  const known = new Set(Object.values(ITEM_CLAIMS).flat());
  const names = (['id_token', 'userinfo'] as const).flatMap((target) => {
    try {
      const request = verifiedClaimsRequest(
        (claimsParameter as Record<string, Record<string, unknown> | undefined>)?.[target]?.verified_claims,
      );
      return Object.keys(request?.claims ?? {});
    } catch {
      return [];
    }
  });
  return [...new Set(names)].filter((name) => known.has(name));
}

/**
 * `verified_claims` for the items the granted scopes release and that a verification holding
 * for the current data vouches for, grouped per verification. With an OIDC4IDA request
 * (`request`), only the claims it names (among `releasable`), each under the newest verification
 * that meets its conditions, with only the verification members it asks for.
 */
export function verifiedClaims(
  account: Account,
  scopes: ReadonlySet<string>,
  asked?: { request: VerifiedClaimsRequest; releasable: ReadonlySet<string>; now?: number },
): Record<string, unknown>[] | undefined {
  if (asked) return requestedVerifiedClaims(account, asked.request, asked.releasable, asked.now ?? Date.now());
  const allowed = new Set([...scopes].flatMap((s) => SCOPE_ITEMS[s] ?? []));
  const byEvent = new Map<VerificationEvent, VerifiedItem[]>();
  for (const [item, event] of verifiedItems(account)) {
    if (!allowed.has(item)) continue;
    byEvent.set(event, [...(byEvent.get(event) ?? []), item]);
  }
  if (!byEvent.size) return undefined;
  return [...byEvent].map(([event, items]) => ({
    verification: verificationOf(account, event),
    claims: Object.assign({}, ...items.map((item) => itemClaims(account, item))),
  }));
}

function requestedVerifiedClaims(
  account: Account,
  request: VerifiedClaimsRequest,
  releasable: ReadonlySet<string>,
  now: number,
): Record<string, unknown>[] | undefined {
  const wanted = Object.keys(request.claims).filter((name) => releasable.has(name));
  const out = new Map<VerificationEvent, { verification: Record<string, unknown>; claims: Record<string, unknown> }>();
  for (const [item, events] of itemVerifications(account)) {
    // a claim asked for with a `value`/`values` is released only when it has that value (OIDC4IDA: a match, not a read-out)
    const values = Object.entries(itemClaims(account, item)).filter(
      ([name, value]) => wanted.includes(name) && value !== undefined && meets(request.claims[name], value, now),
    );
    if (!values.length) continue;
    // the newest verification of the item that meets the request's conditions
    for (const event of [...events].reverse()) {
      const verification = requestedVerification(request.verification, verificationOf(account, event), now);
      if (!verification) continue;
      const entry = out.get(event) ?? { verification, claims: {} };
      Object.assign(entry.claims, Object.fromEntries(values));
      out.set(event, entry);
      break;
    }
  }
  return out.size ? [...out.values()] : undefined;
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
  options: {
    /** the account's oid, for a client registered with `vkhod_esia_compat` (urn:esia:sbj) */
    esiaOid?: number;
    /** the claims parameter's `verified_claims` member for this target (ID token or userinfo) */
    verifiedRequest?: unknown;
    /** claims the citizen allowed one by one (the grant's), besides the scopes */
    grantedClaims?: readonly string[];
  } = {},
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
    verified_claims: verifiedClaims(account, scopes, requestedVerified(options.verifiedRequest, scopes, options.grantedClaims ?? [])),
  };
}

/** An OIDC4IDA request checked when it was made; one that cannot be read (never, once checked) releases nothing. */
function requestedVerified(
  value: unknown,
  scopes: ReadonlySet<string>,
  grantedClaims: readonly string[],
): { request: VerifiedClaimsRequest; releasable: ReadonlySet<string> } | undefined {
  let request: VerifiedClaimsRequest | undefined;
  try {
    request = verifiedClaimsRequest(value);
  } catch {
    request = { verification: {}, claims: {} };
  }
  return request && { request, releasable: releasableClaims(scopes, grantedClaims) };
}
