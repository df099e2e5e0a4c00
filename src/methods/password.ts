/**
 * Password sign-in: identifier (phone, e-mail or SNILS) + password. The same answer and the same
 * cost for "no such account" and "wrong password"; failures count per identifier and per IP.
 */
import { parseLoginIdentifier } from '../accounts/login-identifier.ts';
import { decoyHash, verifyPassword } from '../accounts/password-hash.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { AuditTrail } from '../security/audit.ts';
import type { Limits } from '../security/limits.ts';
import type { AuthenticationMethod, VerifyResult } from './method.ts';

export interface PasswordInput {
  identifier: string;
  password: string;
  ip: string;
  clientId?: string;
}

export class PasswordMethod implements AuthenticationMethod<PasswordInput> {
  readonly id = 'password';

  constructor(
    private readonly accounts: Accounts,
    private readonly limits: Limits,
    private readonly audit: AuditTrail,
  ) {}

  start(): Record<string, unknown> {
    return {};
  }

  async verify(input: PasswordInput): Promise<VerifyResult> {
    const parsed = parseLoginIdentifier(input.identifier);
    if (!parsed.key) return { ok: false, reason: 'malformed', problem: parsed.problem! };
    if (!input.password) return { ok: false, reason: 'malformed', problem: 'password_required' };
    const limitKey = `${parsed.key.kind}:${parsed.key.value}`;
    for (const [rule, key] of [['login-failures-account', limitKey], ['login-failures-ip', input.ip]] as const) {
      const state = await this.limits.peek(rule, key);
      if (state.blocked) {
        await this.audit.record({ type: 'signin.password', outcome: 'failure', ip: input.ip, clientId: input.clientId, details: { reason: 'locked', rule } });
        return { ok: false, reason: 'locked', retryAfter: state.retryAfter };
      }
    }
    const account = await this.accounts.findByKey(parsed.key);
    // Wrong second factors lock the account itself, whatever login it is reached by.
    const accountLock = account ? await this.limits.peek('login-failures-account', `account:${account.id}`) : undefined;
    if (accountLock?.blocked) return { ok: false, reason: 'locked', retryAfter: accountLock.retryAfter };
    const matches = await verifyPassword(account?.passwordHash ?? (await decoyHash()), input.password.slice(0, 256));
    if (!account || !account.passwordHash || !matches) {
      const [perAccount] = await Promise.all([
        this.limits.hit('login-failures-account', limitKey),
        this.limits.hit('login-failures-ip', input.ip),
      ]);
      await this.audit.record({ type: 'signin.password', accountId: account?.id, outcome: 'failure', ip: input.ip, clientId: input.clientId, details: { reason: account ? 'wrong_password' : 'unknown_login', login: parsed.key.kind } });
      const now = await this.limits.peek('login-failures-account', limitKey);
      if (perAccount.blocked || now.blocked) return { ok: false, reason: 'locked', retryAfter: Math.max(perAccount.retryAfter, now.retryAfter) };
      return { ok: false, reason: 'invalid' };
    }
    await this.limits.reset('login-failures-account', limitKey);
    return { ok: true, account, amr: ['pwd'] };
  }
}
