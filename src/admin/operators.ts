/**
 * Operator accounts (DESIGN §4, `src/admin`): service-centre staff who confirm identities in
 * person, post-room staff who print the queue of confirmation letters, and administrators who
 * may do both. They are few, so they live in the store's settings as one JSON document
 * (`admin.operators`) written with compare-and-set; passwords only as argon2id hashes.
 * Wrong passwords count per login and per client IP and lock out like a citizen's sign-in.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { checkPassword } from '../accounts/password-policy.ts';
import { decoyHash, hashPassword, verifyPassword } from '../accounts/password-hash.ts';
import type { AuditInput } from '../security/audit.ts';
import type { Limits } from '../security/limits.ts';
import type { SettingRepository } from '../store.ts';

export const OPERATORS_SETTING = 'admin.operators';
export const OPERATOR_ROLES = ['service_centre', 'post', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** What an operator-chosen password must satisfy (generated ones carry 144 random bits). */
export const OPERATOR_PASSWORD_POLICY = { minLength: 12, classes: [] };

const recordSchema = z.object({
  login: z.string(),
  name: z.string(),
  roles: z.array(z.enum(OPERATOR_ROLES)),
  passwordHash: z.string().startsWith('$argon2id$'),
  createdAt: z.string(),
  passwordChangedAt: z.string(),
});
const documentSchema = z.object({ operators: z.array(recordSchema) });

type OperatorRecord = z.infer<typeof recordSchema>;
/** An operator as the rest of vkhod sees one: never with the password hash. */
export type Operator = Omit<OperatorRecord, 'passwordHash'>;

export class OperatorError extends Error {
  constructor(readonly code: 'invalid_login' | 'invalid_name' | 'invalid_roles' | 'exists' | 'not_found' | 'weak_password' | 'conflict') {
    super(code);
    this.name = 'OperatorError';
  }
}

export type OperatorVerification =
  { ok: true; operator: Operator } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'locked'; retryAfter: number };

/** Where operator events go: the AuditTrail in the app, the store's audit log in the CLI. */
export interface OperatorAudit {
  record(input: AuditInput): Promise<unknown>;
}

/** Lower-case latin letters, digits, `.`, `_`, `-`; 2–64 characters, starting with a letter or digit. */
export function normalizeOperatorLogin(input: string): string | undefined {
  const login = input.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9._-]{1,63}$/.test(login) ? login : undefined;
}

export function hasRole(operator: Pick<Operator, 'roles'>, role: OperatorRole): boolean {
  return operator.roles.includes('admin') || operator.roles.includes(role);
}

/** The audit actor of an operator's actions. */
export function operatorActor(operator: Pick<Operator, 'login'>): string {
  return `operator:${operator.login}`;
}

/** A strong random password: 24 characters, 144 bits. Shown once, never stored in clear. */
export function generateOperatorPassword(): string {
  return randomBytes(18).toString('base64url');
}

function publicView({ passwordHash: _hash, ...operator }: OperatorRecord): Operator {
  return operator;
}

function cleanName(input: string): string | undefined {
  const name = input.trim().replace(/\s+/g, ' ');
  return name.length >= 1 && name.length <= 100 && !/\p{Cc}/u.test(name) ? name : undefined;
}

function cleanRoles(input: readonly string[]): OperatorRole[] | undefined {
  const roles = [...new Set(input)];
  if (!roles.length || !roles.every((r): r is OperatorRole => (OPERATOR_ROLES as readonly string[]).includes(r))) return undefined;
  return roles;
}

export class Operators {
  constructor(
    private readonly settings: SettingRepository,
    private readonly limits: Limits,
    private readonly audit: OperatorAudit,
  ) {}

  private async read(): Promise<{ records: OperatorRecord[]; version: number }> {
    const stored = await this.settings.get(OPERATORS_SETTING);
    if (!stored) return { records: [], version: 0 };
    const parsed = documentSchema.safeParse(JSON.parse(stored.value));
    if (!parsed.success) throw new Error(`setting ${OPERATORS_SETTING} is not a valid operator list`);
    return { records: parsed.data.operators, version: stored.version };
  }

  /** Applies `change` to the current list and writes it if nobody wrote in between (retried). */
  private async write(change: (records: OperatorRecord[]) => OperatorRecord[]): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const { records, version } = await this.read();
      const next = change(records);
      if (await this.settings.put(OPERATORS_SETTING, JSON.stringify({ operators: next }), version)) return;
    }
    throw new OperatorError('conflict');
  }

  private async record(login: string): Promise<OperatorRecord | undefined> {
    const normalized = normalizeOperatorLogin(login);
    if (!normalized) return undefined;
    return (await this.read()).records.find((r) => r.login === normalized);
  }

  async list(): Promise<Operator[]> {
    return (await this.read()).records.map(publicView).sort((a, b) => a.login.localeCompare(b.login));
  }

  async find(login: string): Promise<Operator | undefined> {
    const record = await this.record(login);
    return record && publicView(record);
  }

  /** Adds an operator with a generated password, returned here once. */
  async add(
    input: { login: string; name: string; roles: readonly string[] },
    actor: string,
  ): Promise<{ operator: Operator; password: string }> {
    const login = normalizeOperatorLogin(input.login);
    if (!login) throw new OperatorError('invalid_login');
    const name = cleanName(input.name);
    if (!name) throw new OperatorError('invalid_name');
    const roles = cleanRoles(input.roles);
    if (!roles) throw new OperatorError('invalid_roles');
    const password = generateOperatorPassword();
    const now = new Date().toISOString();
    const record: OperatorRecord = {
      login,
      name,
      roles,
      passwordHash: await hashPassword(password),
      createdAt: now,
      passwordChangedAt: now,
    };
    await this.write((records) => {
      if (records.some((r) => r.login === login)) throw new OperatorError('exists');
      return [...records, record];
    });
    await this.audit.record({ type: 'admin.operator_added', actor, outcome: 'success', details: { login, roles } });
    return { operator: publicView(record), password };
  }

  async remove(login: string, actor: string): Promise<void> {
    const normalized = normalizeOperatorLogin(login);
    if (!normalized) throw new OperatorError('not_found');
    await this.write((records) => {
      if (!records.some((r) => r.login === normalized)) throw new OperatorError('not_found');
      return records.filter((r) => r.login !== normalized);
    });
    await this.audit.record({ type: 'admin.operator_removed', actor, outcome: 'success', details: { login: normalized } });
  }

  /** Sets a password the operator chose (at least 12 characters, not a guessable one). */
  async setPassword(login: string, password: string, actor: string): Promise<void> {
    if (checkPassword(password, password, OPERATOR_PASSWORD_POLICY).length) throw new OperatorError('weak_password');
    await this.replaceHash(login, await hashPassword(password), actor, 'set');
  }

  /** Replaces the password with a new generated one, returned here once. Open sessions end. */
  async resetPassword(login: string, actor: string): Promise<string> {
    const password = generateOperatorPassword();
    await this.replaceHash(login, await hashPassword(password), actor, 'reset');
    return password;
  }

  private async replaceHash(login: string, passwordHash: string, actor: string, how: 'set' | 'reset'): Promise<void> {
    const normalized = normalizeOperatorLogin(login);
    if (!normalized) throw new OperatorError('not_found');
    const now = new Date().toISOString();
    await this.write((records) => {
      if (!records.some((r) => r.login === normalized)) throw new OperatorError('not_found');
      return records.map((r) => (r.login === normalized ? { ...r, passwordHash, passwordChangedAt: now } : r));
    });
    await this.limits.reset('operator-failures-login', normalized);
    await this.audit.record({ type: 'admin.operator_password_changed', actor, outcome: 'success', details: { login: normalized, how } });
  }

  /**
   * Checks a login and password. Unknown logins cost the same as wrong passwords (decoy hash) and
   * count against the same limits. The attempt is reserved against the per-login and per-IP
   * limits before the password is looked at (DESIGN §6), so parallel guesses cannot all be
   * checked against one count; a locked login or IP is refused without a check.
   */
  async verify(login: string, password: string, ip: string): Promise<OperatorVerification> {
    const limitKey = normalizeOperatorLogin(login) ?? login.trim().toLowerCase().slice(0, 64);
    // Software calls the API in parallel with the right password: one check at a time per login
    // (Limits.oneAtATime), or the in-flight reservations alone would lock it out.
    return this.limits.oneAtATime(`operator:${limitKey}`, () => this.verifyNow(limitKey, login, password, ip));
  }

  private async verifyNow(limitKey: string, login: string, password: string, ip: string): Promise<OperatorVerification> {
    const perLogin = await this.limits.reserve('operator-failures-login', limitKey);
    const perIp = perLogin.allowed ? await this.limits.reserve('operator-failures-ip', ip) : undefined;
    if (!perLogin.allowed || !perIp?.allowed) {
      if (perLogin.allowed) await this.limits.release('operator-failures-login', limitKey);
      const rule = perLogin.allowed ? 'operator-failures-ip' : 'operator-failures-login';
      await this.audit.record({ type: 'admin.signin', outcome: 'failure', ip, details: { reason: 'locked', rule, login: limitKey } });
      return { ok: false, reason: 'locked', retryAfter: (perIp ?? perLogin).retryAfter };
    }
    const record = await this.record(login);
    const matches = await verifyPassword(record?.passwordHash ?? (await decoyHash()), password.slice(0, 256));
    if (!record || !matches) {
      await this.audit.record({
        type: 'admin.signin',
        actor: record ? operatorActor(record) : undefined,
        outcome: 'failure',
        ip,
        details: { reason: record ? 'wrong_password' : 'unknown_login', login: limitKey },
      });
      // The attempt that uses up the allowance already answers "locked" (as the citizen sign-in does).
      const reached = [perLogin, perIp].filter((r) => r.reached);
      if (reached.length) return { ok: false, reason: 'locked', retryAfter: Math.max(...reached.map((r) => r.retryAfter)) };
      return { ok: false, reason: 'invalid' };
    }
    await Promise.all([this.limits.reset('operator-failures-login', record.login), this.limits.release('operator-failures-ip', ip)]);
    return { ok: true, operator: publicView(record) };
  }
}
