/**
 * Federation settings as data (docs/federation.md): the banks vkhod signs citizens in through
 * (upstream OpenID Connect providers) and the trust store for qualified e-signatures. A new bank
 * or trusted CA is a configuration change, never a code change.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { VIEWS_DIR } from './package-root.ts';
import type { Env } from './schema.ts';

/** What vkhod reads from a bank, and the claim (a dotted path) that holds it by default. */
export const DEFAULT_BANK_CLAIMS = {
  family_name: 'family_name',
  given_name: 'given_name',
  middle_name: 'middle_name',
  birthdate: 'birthdate',
  snils: 'snils',
  inn: 'inn',
  passport_series: 'passport.series',
  passport_number: 'passport.number',
  passport_issue_date: 'passport.issue_date',
  passport_issuer: 'passport.issuer',
  passport_department_code: 'passport.department_code',
  phone: 'phone_number',
  phone_verified: 'phone_number_verified',
  email: 'email',
  email_verified: 'email_verified',
} as const;

export type BankClaimField = keyof typeof DEFAULT_BANK_CLAIMS;

const claimPath = z
  .string()
  .regex(/^[A-Za-z0-9_:-]+(?:\.[A-Za-z0-9_:-]+)*$/, 'a claim name or a dotted path such as passport.series')
  .max(200);

const bankSchema = z
  .object({
    /** Short id: the button, the callback and the account key `fed:<id>` use it. Never change it once citizens linked. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,31}$/, '2–32 lower-case latin letters, digits or dashes'),
    /** The name citizens see on the button (Russian). */
    name: z.string().trim().min(1).max(80),
    name_en: z.string().trim().min(1).max(80).optional(),
    /** The bank's issuer identifier; its discovery document is {issuer}/.well-known/openid-configuration. */
    issuer: z.url({ protocol: /^https?$/ }),
    client_id: z.string().min(1).max(200),
    client_secret: z.string().min(16, 'at least 16 characters').optional(),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']).optional(),
    /** A private JWK (with `d`) for private_key_jwt. */
    private_key_jwk: z
      .object({ kty: z.string(), d: z.string(), kid: z.string().optional(), alg: z.string().optional() })
      .loose()
      .optional(),
    scope: z.string().default('openid profile phone email'),
    /** Accredited to confirm identity: its verified data raises the account to `confirmed`. */
    accredited: z.boolean().default(false),
    /** Read the userinfo endpoint as well as the ID token (most banks put the data there). */
    userinfo: z.boolean().default(true),
    /** Where each datum is in the bank's claims, when not at the default name. */
    claims: z.partialRecord(z.enum(Object.keys(DEFAULT_BANK_CLAIMS) as [BankClaimField, ...BankClaimField[]]), claimPath).default({}),
    timeout_seconds: z.number().int().min(1).max(60).default(10),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (Boolean(b.client_secret) === Boolean(b.private_key_jwk))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of client_secret or private_key_jwk' });
    if (b.private_key_jwk && b.token_endpoint_auth_method && b.token_endpoint_auth_method !== 'private_key_jwt')
      ctx.addIssue({ code: 'custom', message: 'private_key_jwk needs token_endpoint_auth_method private_key_jwt' });
    if (b.client_secret && b.token_endpoint_auth_method === 'private_key_jwt')
      ctx.addIssue({ code: 'custom', message: 'private_key_jwt needs private_key_jwk, not client_secret' });
    if (!b.scope.split(' ').includes('openid')) ctx.addIssue({ code: 'custom', message: 'scope must include openid' });
  });

const bankListSchema = z.array(bankSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  for (const b of list) {
    if (seen.has(b.id)) ctx.addIssue({ code: 'custom', message: `bank ${b.id}: declared twice` });
    seen.add(b.id);
  }
});

type ParsedBank = z.infer<typeof bankSchema>;
export interface BankConfig extends Omit<ParsedBank, 'claims' | 'token_endpoint_auth_method'> {
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  claims: Record<BankClaimField, string>;
}

/**
 * The development bank (`npm run dev-bank`, scripts/dev-bank.ts): used when NODE_ENV=development
 * and no bank is configured. Its secret is public on purpose; it exists only on a laptop.
 */
export const DEV_BANK = {
  id: 'demobank',
  name: 'Демо-банк',
  name_en: 'Demo bank',
  issuer: 'http://localhost:3100',
  client_id: 'vkhod',
  client_secret: 'dev-bank-client-secret-local-only',
  scope: 'openid profile phone email snils passport',
  accredited: true,
} as const;

export class FederationConfigError extends Error {}

function describe(source: string, list: unknown, issue: z.core.$ZodIssue): string {
  const [index, ...rest] = issue.path;
  const entry = typeof index === 'number' && Array.isArray(list) ? (list[index] as { id?: unknown } | undefined) : undefined;
  const which = typeof index === 'number' ? `bank ${index}${typeof entry?.id === 'string' ? ` (${entry.id})` : ''}` : 'banks';
  return `${source}: ${which}${rest.length ? ` ${rest.join('.')}` : ''}: ${issue.message}`;
}

/** Validates a bank list (JSON already parsed); throws FederationConfigError with one line. */
export function parseBanks(raw: unknown, source: string, production = false): BankConfig[] {
  const parsed = bankListSchema.safeParse(raw);
  if (!parsed.success) throw new FederationConfigError(describe(source, raw, parsed.error.issues[0]!));
  return parsed.data.map((b, i) => {
    if (production && !b.issuer.startsWith('https://'))
      throw new FederationConfigError(`${source}: bank ${i} (${b.id}) issuer: must be https:// in production`);
    return {
      ...b,
      issuer: b.issuer.replace(/\/+$/, ''),
      token_endpoint_auth_method: b.token_endpoint_auth_method ?? (b.private_key_jwk ? 'private_key_jwt' : 'client_secret_basic'),
      claims: { ...DEFAULT_BANK_CLAIMS, ...b.claims },
    };
  });
}

/** VKHOD_BANKS (JSON), else VKHOD_BANKS_FILE when it exists, else the development bank in development. */
export function readBanks(env: Env): BankConfig[] {
  const production = env.NODE_ENV === 'production';
  let raw: unknown;
  let source = 'VKHOD_BANKS';
  try {
    if (env.VKHOD_BANKS !== undefined) raw = JSON.parse(env.VKHOD_BANKS);
    else if (existsSync(env.VKHOD_BANKS_FILE)) {
      source = `VKHOD_BANKS_FILE (${env.VKHOD_BANKS_FILE})`;
      raw = JSON.parse(readFileSync(env.VKHOD_BANKS_FILE, 'utf8'));
    } else raw = env.NODE_ENV === 'development' ? [DEV_BANK] : [];
  } catch {
    throw new FederationConfigError(`${source}: not valid JSON`);
  }
  return parseBanks(raw, source, production);
}

export interface EsignConfig {
  /** A PEM file (one or more certificates) or a directory of them; e-signature sign-in is off without it. */
  trustedCas?: string;
  /** A CRL file (PEM or DER) or a directory of them: certificates they list are refused. */
  crls?: string;
  /** How long a challenge to sign lives. */
  challengeSeconds: number;
  /** Fetch CRLs from the certificates' distribution points (off unless VKHOD_ESIGN_CRL_FETCH). */
  crlFetch?: { timeoutMs: number; cacheSeconds: number };
  /** The address of CryptoPro's cadesplugin_api.js for the page; absent: the plug-in path is off (no request for a missing file). */
  cadesApi?: string;
}

/** Where a deployment puts CryptoPro's own plug-in API script (its licence keeps it out of vkhod). */
const VENDORED_CADES_API = join(VIEWS_DIR, 'static', 'vendor', 'cadesplugin_api.js');

/** Where the development test CA is written (`npm run cli -- esign make-test-ca`). */
export const DEV_ESIGN_DIR = './data/esign-test-ca';

export function esignSettings(env: Env): EsignConfig {
  const dev = env.NODE_ENV === 'development';
  return {
    trustedCas: env.VKHOD_ESIGN_TRUSTED_CAS_FILE ?? (dev ? DEV_ESIGN_DIR : undefined),
    crls: env.VKHOD_ESIGN_CRL_FILE ?? (dev && !env.VKHOD_ESIGN_TRUSTED_CAS_FILE ? DEV_ESIGN_DIR : undefined),
    challengeSeconds: env.VKHOD_ESIGN_CHALLENGE_SECONDS,
    ...(env.VKHOD_ESIGN_CRL_FETCH
      ? { crlFetch: { timeoutMs: env.VKHOD_ESIGN_CRL_FETCH_TIMEOUT_MS, cacheSeconds: env.VKHOD_ESIGN_CRL_CACHE_SECONDS } }
      : {}),
    ...(env.VKHOD_ESIGN_CADES_API
      ? { cadesApi: env.VKHOD_ESIGN_CADES_API }
      : existsSync(VENDORED_CADES_API)
        ? { cadesApi: '/static/vendor/cadesplugin_api.js' }
        : {}),
  };
}
