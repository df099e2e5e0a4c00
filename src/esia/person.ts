/**
 * ESIA's person data REST API, `/rs/prns/{oid}…`, with an ESIA access token as Bearer and only
 * within the scopes the citizen consented to: the person, and the collections of contacts
 * (`ctts`), addresses (`addrs`) and documents (`docs`) — as references, or with
 * `?embed=(elements)` in full — and each element at its own URL. A token for another oid or
 * without the scope gets ESIA's 403; a path ESIA does not have gets 404.
 */
import Router from '@koa/router';
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { verifiedItems } from '../accounts/verification.ts';
import type { Services } from '../services.ts';
import type { Account } from '../store.ts';
import { ACCESS_TOKEN_MODEL, type EsiaTokenRecord } from './records.ts';
import type { EsiaTokenVerifier } from './gost-signer.ts';
import { tokenAcrHolds } from '../oidc/acr.ts';

type Json = Record<string, unknown>;

/** dd.MM.yyyy from vkhod's YYYY-MM-DD. */
function esiaDate(date: string | undefined): string | undefined {
  const m = date && /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return m ? `${m[3]}.${m[2]}.${m[1]}` : undefined;
}

/** +7(912)3456789, as ESIA writes a mobile number. */
function esiaPhone(phone: string): string {
  const m = /^\+7(\d{3})(\d{7})$/.exec(phone);
  return m ? `+7(${m[1]})${m[2]}` : phone;
}

const vrfStu = (verified: boolean) => (verified ? 'VERIFIED' : 'NOT_VERIFIED');

function eTag(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('hex').toUpperCase();
}

function withTag(element: Json): Json {
  return { ...element, eTag: eTag(element) };
}

const has = (scopes: ReadonlySet<string>, ...any: string[]) => any.some((s) => scopes.has(s));

interface Collection {
  /** the scopes any of which opens the collection */
  scopes: string[];
  elements(account: Account, scopes: ReadonlySet<string>): Json[];
}

const COLLECTIONS_BY_NAME: Record<string, Collection> = {
  ctts: {
    scopes: ['mobile', 'email', 'contacts'],
    elements(account, scopes) {
      const out: Json[] = [];
      if (account.phone && has(scopes, 'mobile', 'contacts'))
        out.push({
          stateFacts: ['Identifiable'],
          id: 1,
          type: 'MBT',
          vrfStu: vrfStu(account.phoneVerified),
          value: esiaPhone(account.phone),
        });
      if (account.email && has(scopes, 'email', 'contacts'))
        out.push({ stateFacts: ['Identifiable'], id: 2, type: 'EML', vrfStu: vrfStu(account.emailVerified), value: account.email });
      return out;
    },
  },
  addrs: {
    scopes: ['addresses'],
    elements(account) {
      const address = account.identity?.address;
      if (!address) return [];
      // vkhod keeps one address, where the citizen lives (and gets letters): ESIA's PLV
      return [
        {
          stateFacts: ['Identifiable'],
          id: 1,
          type: 'PLV',
          addressStr: address.formatted,
          ...(address.postalCode ? { zipCode: address.postalCode } : {}),
          countryId: 'RUS',
          vrfStu: vrfStu(verifiedItems(account).has('address')),
        },
      ];
    },
  },
  docs: {
    scopes: ['id_doc'],
    elements(account) {
      const passport = account.identity?.passport;
      if (!passport) return [];
      return [
        {
          stateFacts: ['Identifiable'],
          id: 1,
          type: 'RF_PASSPORT',
          vrfStu: vrfStu(verifiedItems(account).has('id_doc')),
          series: passport.series,
          number: passport.number,
          issueDate: esiaDate(passport.issueDate),
          issueId: passport.departmentCode,
          issuedBy: passport.issuer,
        },
      ];
    },
  },
};

/** The person's own fields each scope releases. */
function person(account: Account, scopes: ReadonlySet<string>): Json {
  const i = account.identity ?? {};
  const out: Json = { stateFacts: ['EntityRoot'] };
  if (scopes.has('fullname'))
    Object.assign(out, {
      firstName: account.name.given,
      lastName: account.name.family,
      ...(account.name.middle ? { middleName: account.name.middle } : {}),
    });
  if (scopes.has('birthdate') && i.birthDate) out.birthDate = esiaDate(i.birthDate);
  if (scopes.has('gender') && i.gender) out.gender = i.gender === 'male' ? 'M' : 'F';
  if (scopes.has('birthplace') && i.birthPlace) out.birthPlace = i.birthPlace;
  // ESIA's SNILS and INN are always checked ones (with the Pension Fund, the tax service): here only a verified one
  const verified = verifiedItems(account);
  if (scopes.has('snils') && account.snils && verified.has('snils'))
    out.snils = `${account.snils.slice(0, 3)}-${account.snils.slice(3, 6)}-${account.snils.slice(6, 9)} ${account.snils.slice(9)}`;
  if (scopes.has('inn') && i.inn && verified.has('inn')) out.inn = i.inn;
  if (scopes.has('id_doc') && i.passport) out.citizenship = 'RUS';
  Object.assign(out, { trusted: account.level === 'confirmed', verifying: false, status: 'REGISTERED' });
  return withTag(out);
}

/** The scopes that open the person's own record (anything about the person, not only `openid`). */
const PERSON_SCOPES = [
  'fullname',
  'birthdate',
  'gender',
  'birthplace',
  'snils',
  'inn',
  'id_doc',
  'email',
  'mobile',
  'contacts',
  'addresses',
];

function forbidden(ctx: Context, message: string): void {
  ctx.status = 403;
  ctx.body = { code: 'ESIA-005011', message };
}

function notFound(ctx: Context): void {
  ctx.status = 404;
  ctx.body = { code: 'ESIA-005001', message: 'resource not found' };
}

/** The `embed` parameter: `(elements)` for a collection; `(contacts.elements,documents.elements,addresses.elements)` for the person. */
function embeds(ctx: Context): Set<string> {
  const raw = typeof ctx.query.embed === 'string' ? ctx.query.embed : '';
  const m = /^\((.*)\)$/.exec(raw.trim());
  return new Set(
    (m ? m[1]! : raw)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** `<member>.elements` → the collection it embeds (built, so the member names are not mistaken for locale keys). */
/**
 * Looked up by the path and query a client sent: Maps, so that `constructor`, `__proto__` or
 * `toString` is no collection (on a plain object they found Object.prototype's members: a 500).
 */
const COLLECTIONS = new Map(Object.entries(COLLECTIONS_BY_NAME));
const PERSON_EMBEDS = new Map(
  Object.entries({ contacts: 'ctts', addresses: 'addrs', documents: 'docs' }).map(([member, path]) => [member + '.elements', path]),
);

export function esiaPersonRoutes(services: Services, verifier: () => Promise<EsiaTokenVerifier>): Router {
  const router = new Router({ prefix: '/rs/prns' });

  /** The token's record when the Bearer token is a live ESIA access token for this oid; answers 401/403 otherwise. */
  async function authorized(ctx: Context): Promise<{ record: EsiaTokenRecord; account: Account; scopes: Set<string> } | undefined> {
    ctx.set({ 'cache-control': 'no-store' });
    const match = /^Bearer\s+([A-Za-z0-9._-]+)$/.exec(ctx.get('authorization'));
    const claims = match ? await (await verifier()).verify(match[1]!).catch(() => undefined) : undefined;
    const record =
      claims && typeof claims.jti === 'string'
        ? ((await services.store.oidcAdapter(ACCESS_TOKEN_MODEL).find(claims.jti)) as EsiaTokenRecord | undefined)
        : undefined;
    const invalid = () => {
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer error="invalid_token"');
      ctx.body = { code: 'ESIA-005010', message: 'the access token is invalid or expired' };
      return undefined;
    };
    // The grant stands: a replayed code or refresh token revokes it, and a token written after that
    // revocation by a request racing the replay must die with it.
    const grant = record && (await services.provider.Grant.find(record.grantId).catch(() => undefined));
    if (!claims || !record || !grant) return invalid();
    if (String(record.oid) !== ctx.params.oid || claims['urn:esia:sbj_id'] !== record.oid) {
      forbidden(ctx, 'the access token is not for this person');
      return undefined;
    }
    const account = await services.accounts.findActive(record.accountId);
    if (!account) {
      forbidden(ctx, 'the person is no longer available');
      return undefined;
    }
    // A token issued at an acr the account no longer satisfies (its level dropped) is dead, as at userinfo.
    if (!tokenAcrHolds(account.level, record)) return invalid();
    return { record, account, scopes: new Set(record.scopes) };
  }

  router.get('/:oid', async (ctx) => {
    const ok = await authorized(ctx);
    if (!ok) return;
    if (!has(ok.scopes, ...PERSON_SCOPES)) return forbidden(ctx, 'no scope grants the person’s data');
    const body = person(ok.account, ok.scopes);
    for (const embed of embeds(ctx)) {
      const name = PERSON_EMBEDS.get(embed);
      if (!name) continue;
      const collection = COLLECTIONS.get(name)!;
      if (!has(ok.scopes, ...collection.scopes)) continue;
      const key = embed.split('.')[0]!;
      body[key] = collectionBody(ctx, ok.record.oid, name, collection.elements(ok.account, ok.scopes), true);
    }
    ctx.body = body;
  });

  function collectionBody(ctx: Context, oid: number, name: string, elements: Json[], embedded: boolean): Json {
    const base = `${services.config.issuer}/rs/prns/${oid}/${name}`;
    return withTag({
      stateFacts: ['hasSize'],
      size: elements.length,
      elements: embedded ? elements.map(withTag) : elements.map((e) => `${base}/${e.id}`),
    });
  }

  router.get('/:oid/:collection', async (ctx) => {
    const collection = COLLECTIONS.get(ctx.params.collection!);
    if (!collection) return notFound(ctx);
    const ok = await authorized(ctx);
    if (!ok) return;
    if (!has(ok.scopes, ...collection.scopes)) return forbidden(ctx, 'no scope grants this collection');
    ctx.body = collectionBody(
      ctx,
      ok.record.oid,
      ctx.params.collection!,
      collection.elements(ok.account, ok.scopes),
      embeds(ctx).has('elements'),
    );
  });

  router.get('/:oid/:collection/:id', async (ctx) => {
    const collection = COLLECTIONS.get(ctx.params.collection!);
    if (!collection) return notFound(ctx);
    const ok = await authorized(ctx);
    if (!ok) return;
    if (!has(ok.scopes, ...collection.scopes)) return forbidden(ctx, 'no scope grants this collection');
    const element = collection.elements(ok.account, ok.scopes).find((e) => String(e.id) === ctx.params.id);
    if (!element) return notFound(ctx);
    ctx.body = withTag(element);
  });

  // anything else under /rs/prns is not ESIA's
  router.all('/{*rest}', (ctx) => notFound(ctx));
  return router;
}

/** RS256 tokens: checked with vkhod's published keys (the private JWKs' public halves). */
export async function rsaVerifyKeys(jwks: { keys: object[] }): Promise<(token: string) => Promise<Json>> {
  const keys = new Map<string, Awaited<ReturnType<typeof importJWK>>>();
  for (const jwk of jwks.keys as JWK[]) {
    if (jwk.kty !== 'RSA' || !jwk.kid) continue;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
    keys.set(jwk.kid, await importJWK(pub, 'RS256'));
  }
  return async (token) => {
    const kid = decodeProtectedHeader(token).kid;
    const key = kid ? keys.get(kid) : undefined;
    if (!key) throw new Error('unknown key');
    return (await jwtVerify(token, key, { algorithms: ['RS256'] })).payload as Json;
  };
}
