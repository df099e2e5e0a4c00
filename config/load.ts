/**
 * Turns the environment into a validated Config. Throws ConfigError with one line that names
 * the setting; `src/main.ts` prints it and exits with code 1.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { ProxyTrust } from './proxy-trust.ts';
import { envSchema, SECRET_SETTINGS, type Env } from './schema.ts';
import { clientListSchema, type ClientMetadata } from './clients.ts';
import { esignSettings, FederationConfigError, readBanks, type BankConfig, type EsignConfig } from './federation.ts';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type PasswordClass = 'upper' | 'lower' | 'digit' | 'symbol';

export interface Config {
  env: Env['NODE_ENV'];
  production: boolean;
  port: number;
  host: string;
  issuer: string;
  /** Whether any reverse proxy is trusted (X-Forwarded-Proto/-Host are then read). */
  trustProxy: boolean;
  /** Which proxies are trusted to name the client (src/security/client-ip.ts); null: none. */
  proxyTrust: ProxyTrust | null;
  logLevel: Env['LOG_LEVEL'];
  store:
    | {
        kind: 'sqlite';
        path: string;
        walMaxBytes: number;
        busyDeadlineMs: number;
        lowSpaceBytes: number;
        auditRetentionDays: number;
        consumedRetentionSeconds: number;
      }
    | { kind: 'mongo'; uri: string; auditRetentionDays: number };
  /** SIGTERM: seconds in-flight requests get before the process exits. */
  drainSeconds: number;
  /** Worker processes behind one listener (1: no cluster); `auto` is resolved to the cores. */
  workers: number;
  secretKey: Buffer;
  clients: ClientMetadata[];
  clientsFile: string;
  /** Clients live in the store (issue 14): the per-process cache and the default secret overlap, seconds. */
  clientRegistry: { cacheSeconds: number; secretOverlapSeconds: number };
  /** Signing keys (issue 14): the delay before a rotated key signs, and how often each process re-reads them, seconds. */
  signingKeys: { activationDelaySeconds: number; refreshSeconds: number };
  demoRp: boolean;
  sms: { gateway: 'console'; sender: string } | { gateway: 'http'; url: string; token?: string; sender: string };
  mail: { transport: 'console'; from: string } | { transport: 'smtp'; url: string; from: string };
  devOutbox: boolean;
  passwordPolicy: { minLength: number; classes: PasswordClass[] };
  /** Banks citizens sign in through (docs/federation.md). */
  banks: BankConfig[];
  /** Qualified e-signature sign-in. */
  esign: EsignConfig;
  requireSecondFactor: boolean;
  /** Days a deleted account can be restored before it is erased (0: at the next erasure run). */
  deletionGraceDays: number;
  /** Consent to the processing of personal data at registration: its version and the deployment's own text. */
  pdConsent: { version: string; text?: string };
  registry: { kind: 'development'; delaySeconds: number };
  serviceName: string;
  limits: {
    loginMaxFailures: number;
    loginLockoutSeconds: number;
    loginMaxPerIp: number;
    codeSendsPerRecipient: number;
    codeSendsPerIp: number;
    authorizeMaxPerIp: number;
  };
  /** refreshReuseGrace: seconds in which a rotated-out refresh token still yields its successor (0: never). */
  ttl: { accessToken: number; idToken: number; refreshToken: number; session: number; refreshReuseGrace: number };
  /** ESIA profile (src/esia): the allowed clock difference of a request's `timestamp`, either way. */
  esia: { timestampWindowSeconds: number };
  /** Prometheus metrics listener (issue 14); absent: off. */
  metrics?: { port: number; host: string };
  /** The listener that alone serves /admin and /operator (issue 14); absent: the public one serves them. */
  adminListener?: { port: number; host: string };
}

/**
 * `<NAME>_FILE` for every secret setting: the value is read from the file (a Docker or Kubernetes
 * secret), without its trailing newline. Setting both forms is a mistake, not a preference.
 */
function withSecretFiles(environment: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...environment };
  for (const name of SECRET_SETTINGS) {
    const file = out[`${name}_FILE`];
    if (file === undefined) continue;
    if (out[name] !== undefined) throw new ConfigError(`${name}_FILE: set either ${name} or ${name}_FILE, not both`);
    let value: string;
    try {
      value = readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
    } catch (err) {
      throw new ConfigError(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!value) throw new ConfigError(`${name}_FILE: ${file} is empty`);
    out[name] = value;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path.join('.') || 'environment';
  return `${name}: ${issue.message}`;
}

function decodeSecret(raw: string, setting: string): Buffer {
  const bytes = /^[0-9a-f]+$/i.test(raw) && raw.length % 2 === 0 ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (bytes.length < 32) throw new ConfigError(`${setting}: must decode to at least 32 bytes (e.g. \`openssl rand -base64 32\`)`);
  return bytes;
}

function devSecret(file: string): Buffer {
  if (existsSync(file)) return decodeSecret(readFileSync(file, 'utf8').trim(), file);
  const secret = randomBytes(32).toString('base64');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return Buffer.from(secret, 'base64');
}

export function readClients(env: Env): ClientMetadata[] {
  let raw: unknown = [];
  let source = 'VKHOD_CLIENTS';
  if (!env.VKHOD_CLIENTS && existsSync(env.VKHOD_CLIENTS_FILE) && statSync(env.VKHOD_CLIENTS_FILE).isDirectory())
    throw new ConfigError(`VKHOD_CLIENTS_FILE: ${env.VKHOD_CLIENTS_FILE} is a directory; give the path of the clients JSON file`);
  try {
    if (env.VKHOD_CLIENTS) raw = JSON.parse(env.VKHOD_CLIENTS);
    else if (existsSync(env.VKHOD_CLIENTS_FILE)) {
      source = 'VKHOD_CLIENTS_FILE';
      raw = JSON.parse(readFileSync(env.VKHOD_CLIENTS_FILE, 'utf8'));
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new ConfigError(`${source}: cannot read ${env.VKHOD_CLIENTS_FILE} (${code})`);
    throw new ConfigError(`${source}: not valid JSON`);
  }
  const parsed = clientListSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${source}: ${describeIssue(parsed.error.issues[0]!)}`);
  return parsed.data;
}

/** Federation settings fail with the same one-line ConfigError as the rest. */
function federation<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof FederationConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (compose passes `${X:-}`) means "not set", not "set to nothing".
  const given = withSecretFiles(Object.fromEntries(Object.entries(environment).filter(([, v]) => v !== '')));
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]!));
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  const issuer = (env.VKHOD_ISSUER ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');

  if (production && !env.VKHOD_SECRET_KEY) throw new ConfigError('VKHOD_SECRET_KEY: required in production');
  if (production && !issuer.startsWith('https://')) throw new ConfigError('VKHOD_ISSUER: must be an https:// URL in production');
  if (production && env.VKHOD_DEV_OUTBOX) throw new ConfigError('VKHOD_DEV_OUTBOX: cannot be enabled in production');
  // Issue 14: refusals that would otherwise surface later as strange behaviour.
  const issuerUrl = new URL(issuer);
  if (issuerUrl.search || issuerUrl.hash || issuer.includes('?') || issuer.includes('#'))
    throw new ConfigError('VKHOD_ISSUER: must not have a query or a fragment (the issuer is a base URL: https://host[/path])');
  if (issuerUrl.username || issuerUrl.password) throw new ConfigError('VKHOD_ISSUER: must not carry a user name or password');
  if (production && env.VKHOD_DEMO_RP) throw new ConfigError('VKHOD_DEMO_RP: the demo relying party cannot be on in production');
  if (production && env.VKHOD_SMS_GATEWAY === 'http' && env.VKHOD_SMS_HTTP_URL && !env.VKHOD_SMS_HTTP_URL.startsWith('https://'))
    throw new ConfigError(
      'VKHOD_SMS_HTTP_URL: must be an https:// URL in production (the token and the codes would cross the network in clear)',
    );
  const listeners = [
    ['PORT', env.PORT],
    ['VKHOD_METRICS_PORT', env.VKHOD_METRICS_PORT],
    ['VKHOD_ADMIN_PORT', env.VKHOD_ADMIN_PORT],
  ] as const;
  for (const [name, port] of listeners.slice(1))
    if (port !== undefined && listeners.some(([other, p]) => other !== name && p === port))
      throw new ConfigError(`${name}: ${port} is already the port of another listener`);
  if (env.VKHOD_SMS_GATEWAY === 'http' && !env.VKHOD_SMS_HTTP_URL) {
    throw new ConfigError('VKHOD_SMS_HTTP_URL: required when VKHOD_SMS_GATEWAY=http');
  }
  if (env.VKHOD_MAIL_TRANSPORT === 'smtp' && !env.VKHOD_SMTP_URL) {
    throw new ConfigError('VKHOD_SMTP_URL: required when VKHOD_MAIL_TRANSPORT=smtp');
  }
  if (production && env.VKHOD_REGISTRY === 'development') {
    process.emitWarning('VKHOD_REGISTRY=development: SNILS and passports are checked by the development registry, not the state one');
  }
  if (production && (env.VKHOD_SMS_GATEWAY === 'console' || env.VKHOD_MAIL_TRANSPORT === 'console')) {
    // Allowed (an operator may run without one channel), but never silently.
    process.emitWarning('SMS or e-mail goes to the log only: set VKHOD_SMS_GATEWAY=http and VKHOD_MAIL_TRANSPORT=smtp');
  }

  const secretKey = env.VKHOD_SECRET_KEY ? decodeSecret(env.VKHOD_SECRET_KEY, 'VKHOD_SECRET_KEY') : devSecret(env.VKHOD_DEV_SECRET_FILE);

  return {
    env: env.NODE_ENV,
    production,
    port: env.PORT,
    host: env.HOST,
    issuer,
    trustProxy: env.VKHOD_TRUST_PROXY !== null,
    proxyTrust: env.VKHOD_TRUST_PROXY,
    logLevel: env.LOG_LEVEL,
    store: env.MONGODB_URI
      ? { kind: 'mongo', uri: env.MONGODB_URI, auditRetentionDays: env.VKHOD_AUDIT_RETENTION_DAYS }
      : {
          kind: 'sqlite',
          path: env.VKHOD_SQLITE_PATH,
          walMaxBytes: env.VKHOD_SQLITE_WAL_MAX_MB * 1024 * 1024,
          busyDeadlineMs: env.VKHOD_SQLITE_BUSY_DEADLINE_MS,
          lowSpaceBytes: env.VKHOD_SQLITE_LOW_SPACE_MB * 1024 * 1024,
          auditRetentionDays: env.VKHOD_AUDIT_RETENTION_DAYS,
          consumedRetentionSeconds: env.VKHOD_CONSUMED_RETENTION_SECONDS,
        },
    drainSeconds: env.VKHOD_DRAIN_SECONDS,
    workers: env.VKHOD_WORKERS === 'auto' ? availableParallelism() : env.VKHOD_WORKERS,
    secretKey,
    clients: readClients(env),
    clientsFile: env.VKHOD_CLIENTS_FILE,
    clientRegistry: { cacheSeconds: env.VKHOD_CLIENT_CACHE_SECONDS, secretOverlapSeconds: env.VKHOD_CLIENT_SECRET_OVERLAP_SECONDS },
    signingKeys: { activationDelaySeconds: env.VKHOD_KEY_ACTIVATION_DELAY, refreshSeconds: env.VKHOD_KEY_REFRESH_SECONDS },
    demoRp: env.VKHOD_DEMO_RP ?? !production,
    sms:
      env.VKHOD_SMS_GATEWAY === 'http'
        ? { gateway: 'http', url: env.VKHOD_SMS_HTTP_URL!, token: env.VKHOD_SMS_HTTP_TOKEN, sender: env.VKHOD_SMS_SENDER }
        : { gateway: 'console', sender: env.VKHOD_SMS_SENDER },
    mail:
      env.VKHOD_MAIL_TRANSPORT === 'smtp'
        ? { transport: 'smtp', url: env.VKHOD_SMTP_URL!, from: env.VKHOD_MAIL_FROM }
        : { transport: 'console', from: env.VKHOD_MAIL_FROM },
    devOutbox: env.VKHOD_DEV_OUTBOX ?? !production,
    passwordPolicy: { minLength: env.VKHOD_PASSWORD_MIN_LENGTH, classes: env.VKHOD_PASSWORD_CLASSES },
    banks: federation(() => readBanks(env)),
    esign: esignSettings(env),
    requireSecondFactor: env.VKHOD_REQUIRE_SECOND_FACTOR,
    deletionGraceDays: env.VKHOD_DELETION_GRACE_DAYS,
    pdConsent: { version: env.VKHOD_PD_CONSENT_VERSION, text: env.VKHOD_PD_CONSENT_TEXT },
    registry: { kind: env.VKHOD_REGISTRY, delaySeconds: env.VKHOD_DEV_REGISTRY_DELAY_SECONDS },
    serviceName: env.VKHOD_SERVICE_NAME,
    limits: {
      loginMaxFailures: env.VKHOD_LOGIN_MAX_FAILURES,
      loginLockoutSeconds: env.VKHOD_LOGIN_LOCKOUT_SECONDS,
      loginMaxPerIp: env.VKHOD_LOGIN_MAX_PER_IP,
      codeSendsPerRecipient: env.VKHOD_CODE_SENDS_PER_RECIPIENT,
      codeSendsPerIp: env.VKHOD_CODE_SENDS_PER_IP,
      authorizeMaxPerIp: env.VKHOD_AUTHORIZE_MAX_PER_IP,
    },
    ttl: {
      accessToken: env.VKHOD_ACCESS_TOKEN_TTL,
      idToken: env.VKHOD_ID_TOKEN_TTL,
      refreshToken: env.VKHOD_REFRESH_TOKEN_TTL,
      session: env.VKHOD_SESSION_TTL,
      refreshReuseGrace: env.VKHOD_REFRESH_REUSE_GRACE,
    },
    esia: { timestampWindowSeconds: env.VKHOD_ESIA_TIMESTAMP_WINDOW_SECONDS },
    ...(env.VKHOD_METRICS_PORT !== undefined ? { metrics: { port: env.VKHOD_METRICS_PORT, host: env.VKHOD_METRICS_HOST } } : {}),
    ...(env.VKHOD_ADMIN_PORT !== undefined ? { adminListener: { port: env.VKHOD_ADMIN_PORT, host: env.VKHOD_ADMIN_HOST } } : {}),
  };
}
