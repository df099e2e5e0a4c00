/**
 * Guard rails for user-facing text (issue 10): ru and en have the same keys and placeholders,
 * every key the code and the views name exists, every error code a method or the domain can
 * answer has a text.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BankProblem } from '../../src/methods/bank.ts';
import type { EsignResult } from '../../src/methods/esignature.ts';
import type { SecondFactorResult } from '../../src/methods/second-factor.ts';
import type { PasskeySignIn } from '../../src/methods/webauthn.ts';
import type { LinkProblem } from '../../src/accounts/linked-identities.ts';
import type { PasswordProblem } from '../../src/accounts/password-policy.ts';
import type { NameProblem } from '../../src/accounts/names.ts';
import type { IdentifierProblem } from '../../src/accounts/login-identifier.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
type Tree = { [key: string]: string | Tree };
const load = (lang: string) => JSON.parse(readFileSync(join(root, 'views/locales', `${lang}.json`), 'utf8')) as Tree;
const ru = load('ru');
const en = load('en');

function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}
const node = (tree: Tree, key: string): string | Tree | undefined =>
  key.split('.').reduce<string | Tree | undefined>((n, part) => (typeof n === 'object' ? n[part] : undefined), tree);
const isText = (key: string) => typeof node(ru, key) === 'string' && typeof node(en, key) === 'string';
const isSection = (key: string) => typeof node(ru, key) === 'object' && typeof node(en, key) === 'object';

function files(dir: string, ext: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => join(e.parentPath, e.name));
}

const SECTIONS = new Set(Object.keys(ru));
const KEY = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

/** String literals in src/ that look like a locale key: a dotted path under a top-level section. */
function keysInCode(): { keys: Map<string, string>; prefixes: Map<string, string> } {
  const keys = new Map<string, string>();
  const prefixes = new Map<string, string>();
  for (const file of files('src', '.ts')) {
    const text = readFileSync(file, 'utf8');
    const where = relative(root, file);
    for (const m of text.matchAll(/(\w+)?(\s*[:=(,]\s*)?'([a-z][a-z0-9_.]*)'/g)) {
      const s = m[3]!;
      // not locale keys: audit event types (`type: 'admin.signed_in'`), log events, setting names
      if (/^(type|event|\w+_SETTING)$/.test(m[1] ?? '')) continue;
      // …also when the type is chosen (`type: a ? 'account.password_changed' : 'account.password_set'`)
      const line = text.slice(text.lastIndexOf('\n', m.index) + 1, text.indexOf('\n', m.index));
      if (/\btype: [^,]*\?/.test(line)) continue;
      // …or compared (`e.type === 'account.password_recovered'`)
      if (/\btype\s*[!=]==\s*'/.test(line)) continue;
      if (KEY.test(s) && SECTIONS.has(s.split('.')[0]!)) keys.set(s, where);
    }
    // `section.part.${dynamic}`: the static part must be a section of both locales.
    for (const m of text.matchAll(/`([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)\.\$\{/g)) {
      const s = m[1]!;
      if (SECTIONS.has(s.split('.')[0]!)) prefixes.set(s, where);
    }
  }
  return { keys, prefixes };
}

/** `{{t "key"}}`, `(t "key")` and `(concat "prefix." x)` in views/. */
function keysInViews(): { keys: Map<string, string>; prefixes: Map<string, string> } {
  const keys = new Map<string, string>();
  const prefixes = new Map<string, string>();
  for (const file of files('views', '.hbs')) {
    const text = readFileSync(file, 'utf8');
    const where = relative(root, file);
    for (const m of text.matchAll(/[{(]t "([^"]+)"/g)) keys.set(m[1]!, where);
    for (const m of text.matchAll(/\(concat "([a-z0-9_.]+)\."/g)) prefixes.set(m[1]!, where);
    // keys handed to partials and helpers as named arguments (label="…", title="…")
    for (const m of text.matchAll(/\b[a-z_]+="([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"/g))
      if (SECTIONS.has(m[1]!.split('.')[0]!)) keys.set(m[1]!, where);
  }
  return { keys, prefixes };
}

describe('locales: ru and en', () => {
  it('have the same keys', () => {
    const r = [...leaves(ru).keys()];
    const e = [...leaves(en).keys()];
    expect(
      r.filter((k) => !e.includes(k)),
      'in ru.json only',
    ).to.deep.equal([]);
    expect(
      e.filter((k) => !r.includes(k)),
      'in en.json only',
    ).to.deep.equal([]);
  });

  it('have the same {placeholders} in each text', () => {
    const names = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();
    const enLeaves = leaves(en);
    const differ = [...leaves(ru)]
      .filter(([k, v]) => enLeaves.has(k) && names(v).join() !== names(enLeaves.get(k)!).join())
      .map(([k]) => k);
    expect(differ).to.deep.equal([]);
  });
});

describe('locales: every key used exists', () => {
  it('every locale key named in src/ has a text in both languages', () => {
    const { keys } = keysInCode();
    expect(keys.size).to.be.greaterThan(100);
    // a literal may also name a section that a template extends (`${texts}.${problem}`)
    const missing = [...keys].filter(([k]) => !isText(k) && !isSection(k)).map(([k, where]) => `${k} (${where})`);
    expect(missing).to.deep.equal([]);
  });

  it('every prefix completed at run time in src/ is a section of both locales', () => {
    const { prefixes } = keysInCode();
    // The dynamic keys today: levels.*, admin.roles/methods/registry.*, operator.*, esign.errors.*,
    // bank/federation/mfa/webauthn/contacts errors, names.*, password.*, login.problems.*, oidc_errors.*, …
    expect(prefixes.size).to.be.greaterThan(10);
    const missing = [...prefixes].filter(([p]) => !isSection(p)).map(([p, where]) => `${p}.* (${where})`);
    expect(missing).to.deep.equal([]);
  });

  it('every key a view names with the t helper has a text in both languages', () => {
    const { keys, prefixes } = keysInViews();
    expect(keys.size).to.be.greaterThan(100);
    const missing = [...keys].filter(([k]) => !isText(k)).map(([k, where]) => `${k} (${where})`);
    expect(missing).to.deep.equal([]);
    const missingPrefixes = [...prefixes].filter(([p]) => !isSection(p)).map(([p, where]) => `${p}.* (${where})`);
    expect(missingPrefixes).to.deep.equal([]);
  });
});

// Every error code → the key its text is shown under. The Records are exhaustive: a new code in
// one of these unions fails the typecheck here until it is given a text.
type Failure<T> = Extract<T, { ok: false }> extends { reason: infer R } ? R & string : never;

const ERROR_TEXTS: Record<string, Record<string, string>> = {
  'bank problems': {
    unknown_bank: 'bank.errors.unknown_bank',
    unavailable: 'bank.errors.unavailable',
    cancelled: 'bank.errors.cancelled',
    invalid_response: 'bank.errors.invalid_response',
  } satisfies Record<BankProblem, string>,
  'link problems': {
    already_linked: 'bank.errors.already_linked',
    linked_elsewhere: 'bank.errors.linked_elsewhere',
    conflict: 'bank.errors.conflict',
    no_identity: 'bank.errors.no_identity',
    last_way_in: 'federation.errors.last_way_in',
    not_linked: 'federation.errors.not_linked',
  } satisfies Record<LinkProblem, string>,
  'e-signature results': Object.fromEntries(
    (
      [
        'malformed',
        'no_certificate',
        'gost_unsupported',
        'unsupported_algorithm',
        'bad_signature',
        'expired',
        'not_yet_valid',
        'key_usage',
        'untrusted',
        'revoked',
        'revocation_unknown',
        'challenge',
        'no_snils',
        'not_configured',
        'empty',
      ] satisfies Failure<EsignResult>[]
    ).map((r) => [r, `esign.errors.${r}`]),
  ),
  'second-factor results': Object.fromEntries(
    (['invalid', 'expired', 'used', 'exhausted', 'limited', 'unavailable'] satisfies Failure<SecondFactorResult>[]).map((r) => [
      r,
      `mfa.errors.${r}`,
    ]),
  ),
  'passkey results': Object.fromEntries(
    (['challenge', 'unknown_credential', 'invalid', 'counter', 'wrong_account'] satisfies Failure<PasskeySignIn>[]).map((r) => [
      r,
      `webauthn.errors.${r}`,
    ]),
  ),
  'password policy': Object.fromEntries(
    (
      [
        'required',
        'too_short',
        'too_long',
        'needs_upper',
        'needs_lower',
        'needs_digit',
        'needs_symbol',
        'common',
        'contains_personal',
        'control_characters',
        'mismatch',
      ] satisfies PasswordProblem[]
    ).map((r) => [r, `password.${r}`]),
  ),
  'name problems': Object.fromEntries((['required', 'too_long', 'not_cyrillic'] satisfies NameProblem[]).map((r) => [r, `names.${r}`])),
  'login identifier problems': Object.fromEntries(
    (['required', 'bad_email', 'bad_snils', 'bad_phone'] satisfies IdentifierProblem[]).map((r) => [r, `login.problems.${r}`]),
  ),
};

// `satisfies X[]` on an array literal checks each element but not that all are present: these
// assignments make each list exhaustive (a missing member is a type error).
type Exhaustive<U extends string, L extends readonly string[]> = [U] extends [L[number]] ? true : false;
const exhaustive: [
  Exhaustive<
    Failure<EsignResult>,
    [
      'malformed',
      'no_certificate',
      'gost_unsupported',
      'unsupported_algorithm',
      'bad_signature',
      'expired',
      'not_yet_valid',
      'key_usage',
      'untrusted',
      'revoked',
      'revocation_unknown',
      'challenge',
      'no_snils',
      'not_configured',
      'empty',
    ]
  >,
  Exhaustive<Failure<SecondFactorResult>, ['invalid', 'expired', 'used', 'exhausted', 'limited', 'unavailable']>,
  Exhaustive<Failure<PasskeySignIn>, ['challenge', 'unknown_credential', 'invalid', 'counter', 'wrong_account']>,
  Exhaustive<
    PasswordProblem,
    [
      'required',
      'too_short',
      'too_long',
      'needs_upper',
      'needs_lower',
      'needs_digit',
      'needs_symbol',
      'common',
      'contains_personal',
      'control_characters',
      'mismatch',
    ]
  >,
  Exhaustive<NameProblem, ['required', 'too_long', 'not_cyrillic']>,
  Exhaustive<IdentifierProblem, ['required', 'bad_email', 'bad_snils', 'bad_phone']>,
] = [true, true, true, true, true, true];

describe('error codes', () => {
  for (const [group, texts] of Object.entries(ERROR_TEXTS)) {
    it(`every one of the ${group} has a text in both languages`, () => {
      expect(exhaustive.every(Boolean)).to.equal(true);
      expect(Object.values(texts).filter((k) => !isText(k))).to.deep.equal([]);
    });
  }

  it('every OAuth error the provider pages name has a text, and so does the fallback', () => {
    const pages = readFileSync(join(root, 'src/flows/interaction/provider-pages.ts'), 'utf8');
    const known = [...(pages.match(/KNOWN_ERRORS = new Set\(\[([^\]]*)\]/)?.[1] ?? '').matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!);
    expect(known.length).to.be.greaterThan(5);
    expect([...known, 'other'].filter((code) => !isText(`oidc_errors.${code}`))).to.deep.equal([]);
  });
});
