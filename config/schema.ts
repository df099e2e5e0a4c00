/**
 * The configuration schema: every setting, its default and its environment variable.
 * Validated once at start; a bad value stops the process with one line naming the setting.
 * docs/configuration.md is the reference for operators.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseProxyTrust } from './proxy-trust.ts';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** A listen address: an IP address or a host name (no scheme, no port). */
const listenHost = z
  .string()
  .min(1)
  .refine(
    (v) => isIP(v) !== 0 || /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(v),
    'must be an IP address or a host name to listen on (e.g. 0.0.0.0, ::, 127.0.0.1, localhost), without scheme or port',
  );

/** Environment variables → typed settings. Keys are the variable names. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(3000),
  HOST: listenHost.default('0.0.0.0'),
  /** Public base URL; the OIDC issuer. */
  VKHOD_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Trust X-Forwarded-* from reverse proxies: false, true (= one hop), a number of hops, or a
   * list of proxy addresses/CIDR networks. The client IP is the right-most address not added
   * by a trusted proxy.
   */
  VKHOD_TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v, ctx) => {
      const trust = parseProxyTrust(v);
      if (trust && 'problem' in trust) {
        ctx.addIssue({ code: 'custom', message: trust.problem });
        return z.NEVER;
      }
      return trust;
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  VKHOD_SQLITE_PATH: z.string().min(1).default('./data/vkhod.sqlite'),
  /** The SQLite WAL is checkpointed and truncated before it passes this size, in MB. */
  VKHOD_SQLITE_WAL_MAX_MB: int(4, 65536).default(64),
  /** How long a write waits for the SQLite lock before it is answered 503 + Retry-After, in ms. */
  VKHOD_SQLITE_BUSY_DEADLINE_MS: int(50, 60000).default(3000),
  /** A warning is logged while the SQLite volume has less free space than this, in MB. */
  VKHOD_SQLITE_LOW_SPACE_MB: int(0, 1048576).default(512),
  /** Audit events older than this many days are deleted (0 = keep forever). */
  VKHOD_AUDIT_RETENTION_DAYS: int(0, 36500).default(365),
  /** Rotated-out refresh tokens and used codes are kept this long for reuse detection, in seconds. */
  VKHOD_CONSUMED_RETENTION_SECONDS: int(60, 365 * 86400).default(86400),
  /** On SIGTERM: how long in-flight requests may take before the process exits anyway, in seconds. */
  VKHOD_DRAIN_SECONDS: int(1, 300).default(8),
  /**
   * Worker processes behind one listener (node:cluster), sharing the store: a number, or `auto`
   * for one per core. 1 (the default) runs one process and no cluster. Issue 15.
   */
  VKHOD_WORKERS: z
    .string()
    .default('1')
    .transform((v, ctx) => {
      if (v.trim().toLowerCase() === 'auto') return 'auto' as const;
      const n = Number(v);
      if (Number.isInteger(n) && n >= 1 && n <= 64) return n;
      ctx.addIssue({ code: 'custom', message: 'a number of worker processes 1–64, or auto (one per core)' });
      return z.NEVER;
    }),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .optional(),

  /**
   * Master secret (≥ 32 bytes as base64 or hex). Encrypts signing keys and TOTP seeds at rest,
   * keys cookies, CSRF tokens and one-time-code hashes. Required in production.
   */
  VKHOD_SECRET_KEY: z.string().min(32, 'must be at least 32 characters (base64 or hex of ≥ 32 random bytes)').optional(),
  /** Development only: where a generated master secret is kept when VKHOD_SECRET_KEY is unset. */
  VKHOD_DEV_SECRET_FILE: z.string().default('./data/dev-secret.key'),

  /** Relying parties as a JSON array of client metadata; when unset, VKHOD_CLIENTS_FILE is read. */
  VKHOD_CLIENTS: z.string().optional(),
  VKHOD_CLIENTS_FILE: z.string().default('./config/clients.json'),
  /** How long a process may use a client it read from the store before reading it again, in seconds (0 = every request). */
  VKHOD_CLIENT_CACHE_SECONDS: int(0, 300).default(5),
  /** After a secret rotation, how long the replaced client secret still works, in seconds (0 = it stops at once). */
  VKHOD_CLIENT_SECRET_OVERLAP_SECONDS: int(0, 90 * 86400).default(86400),
  /** A rotated signing key is published at once and signs only this many seconds later. */
  VKHOD_KEY_ACTIVATION_DELAY: int(0, 30 * 86400).default(3600),
  /** How often a process re-reads the signing keys from the store, in seconds. */
  VKHOD_KEY_REFRESH_SECONDS: int(1, 300).default(5),
  /** Serve the demo relying party at /demo (development default). */
  VKHOD_DEMO_RP: bool.optional(),

  VKHOD_SMS_GATEWAY: z.enum(['console', 'http']).default('console'),
  VKHOD_SMS_HTTP_URL: z.url().optional(),
  VKHOD_SMS_HTTP_TOKEN: z.string().optional(),
  VKHOD_SMS_SENDER: z.string().max(11).default('vkhod'),
  VKHOD_MAIL_TRANSPORT: z.enum(['console', 'smtp']).default('console'),
  /** e.g. smtps://user:pass@smtp.example.org:465 */
  VKHOD_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  VKHOD_MAIL_FROM: z.string().default('vkhod <no-reply@localhost>'),
  /** Dev outbox page at /dev/outbox. Never on in production. */
  VKHOD_DEV_OUTBOX: bool.optional(),

  /** Every account must have a second factor; citizens without one enrol at the next sign-in. */
  VKHOD_REQUIRE_SECOND_FACTOR: bool.default(false),
  /** Days a deleted account stays restorable (by signing in) before its personal data is erased. */
  VKHOD_DELETION_GRACE_DAYS: int(0, 365).default(30),
  /** Version of the consent to the processing of personal data shown at registration (stored on the account). */
  VKHOD_PD_CONSENT_VERSION: z.string().trim().min(1).max(64).default('1'),
  /** The consent text of this deployment (plain text); when unset, the text from views/locales is shown. */
  VKHOD_PD_CONSENT_TEXT: z.string().trim().min(1).max(20000).optional(),
  /** The name citizens see in authenticator apps and passkey prompts. */
  VKHOD_SERVICE_NAME: z.string().min(1).max(64).default('vkhod'),

  /** The RegistryVerifier connector for SNILS + passport checks. Only the development one ships. */
  VKHOD_REGISTRY: z.enum(['development']).default('development'),
  /** Development registry: seconds before a decision is visible (0 = at once). */
  VKHOD_DEV_REGISTRY_DELAY_SECONDS: int(0, 3600).default(3),

  /** Banks (upstream OpenID providers): a JSON array, or a JSON file (docs/federation.md). */
  VKHOD_BANKS: z.string().optional(),
  VKHOD_BANKS_FILE: z.string().default('./config/banks.json'),
  /** Qualified e-signature: trusted CA certificates (a PEM file or a directory of them). */
  VKHOD_ESIGN_TRUSTED_CAS_FILE: z.string().min(1).optional(),
  /** Certificate revocation lists (a CRL file or a directory of them). */
  VKHOD_ESIGN_CRL_FILE: z.string().min(1).optional(),
  /** Seconds a challenge to sign stays valid. */
  VKHOD_ESIGN_CHALLENGE_SECONDS: int(60, 3600).default(600),
  /* ESIA profile (src/esia, docs/esia-migration.md) */
  /** How far an ESIA request's `timestamp` may be from vkhod's clock, either way (seconds). */
  VKHOD_ESIA_TIMESTAMP_WINDOW_SECONDS: int(60, 86400).default(3600),

  /** Fetch CRLs from the certificates' CRL distribution points (off: CRL files only). */
  VKHOD_ESIGN_CRL_FETCH: bool.default(false),
  VKHOD_ESIGN_CRL_FETCH_TIMEOUT_MS: int(100, 60000).default(5000),
  /** The longest a fetched CRL is kept (it is refetched sooner when its nextUpdate comes). */
  VKHOD_ESIGN_CRL_CACHE_SECONDS: int(60, 86400).default(3600),
  /**
   * Where the page loads CryptoPro's plug-in API (cadesplugin_api.js, which vkhod may not ship);
   * unset: /static/vendor/cadesplugin_api.js when that file is there, else the plug-in path is off.
   */
  VKHOD_ESIGN_CADES_API: z
    .string()
    .regex(/^(\/[^/\\]|https:\/\/)/, 'a path starting with / or an https:// address')
    .optional(),

  VKHOD_PASSWORD_MIN_LENGTH: int(8, 128).default(8),
  /** Character classes a password must contain: any of upper, lower, digit, symbol. */
  VKHOD_PASSWORD_CLASSES: list.pipe(z.array(z.enum(['upper', 'lower', 'digit', 'symbol']))).default(['upper', 'lower', 'digit', 'symbol']),

  VKHOD_LOGIN_MAX_FAILURES: int(1, 1000).default(5),
  VKHOD_LOGIN_LOCKOUT_SECONDS: int(1, 86400).default(900),
  VKHOD_LOGIN_MAX_PER_IP: int(1, 100000).default(100),
  VKHOD_CODE_SENDS_PER_RECIPIENT: int(1, 100).default(3),
  VKHOD_CODE_SENDS_PER_IP: int(1, 100000).default(30),
  /**
   * Authorization requests (and PAR, device authorization, e-signature pages) per client IP and
   * 10 minutes: each may store an interaction or a session. Raise it where many citizens share
   * one address (an office, a carrier's NAT) behind a proxy that does not pass theirs.
   */
  VKHOD_AUTHORIZE_MAX_PER_IP: int(1, 1000000).default(600),

  VKHOD_ACCESS_TOKEN_TTL: int(60, 86400).default(600),
  VKHOD_ID_TOKEN_TTL: int(60, 86400).default(600),
  VKHOD_REFRESH_TOKEN_TTL: int(300, 365 * 86400).default(30 * 86400),
  VKHOD_REFRESH_REUSE_GRACE: int(0, 120).default(10),
  VKHOD_SESSION_TTL: int(300, 30 * 86400).default(8 * 3600),

  /* Operations (issue 14): the metrics and admin listeners, secrets read from files. */
  /** Prometheus metrics at /metrics on their own listener; unset: off. */
  VKHOD_METRICS_PORT: int(1, 65535).optional(),
  VKHOD_METRICS_HOST: listenHost.default('127.0.0.1'),
  /** /admin and /operator on their own listener (and 404 on the public one); unset: served on the public listener. */
  VKHOD_ADMIN_PORT: int(1, 65535).optional(),
  VKHOD_ADMIN_HOST: listenHost.default('127.0.0.1'),
  /** Files holding a secret setting's value (Docker/Kubernetes secrets); the trailing newline is dropped. */
  VKHOD_SECRET_KEY_FILE: z.string().min(1).optional(),
  VKHOD_SMS_HTTP_TOKEN_FILE: z.string().min(1).optional(),
  VKHOD_SMTP_URL_FILE: z.string().min(1).optional(),
  MONGODB_URI_FILE: z.string().min(1).optional(),
});

/** The secret settings that may also be given as `<NAME>_FILE` (a path to a file holding the value). */
export const SECRET_SETTINGS = ['VKHOD_SECRET_KEY', 'VKHOD_SMS_HTTP_TOKEN', 'VKHOD_SMTP_URL', 'MONGODB_URI'] as const;

export type Env = z.infer<typeof envSchema>;
