/**
 * Rate limits and lockouts (DESIGN §6), counted in the store so every process shares them.
 * Each rule is named; flows ask `hit` (count one) or `peek` (is it blocked?) by key.
 */
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config/load.ts';
import type { Store } from '../store.ts';

export type LimitRule =
  /** wrong sign-in attempts per login identifier → lockout */
  | 'login-failures-account'
  /** wrong sign-in attempts per client IP */
  | 'login-failures-ip'
  /** one-time codes sent per recipient (3 per 10 minutes) */
  | 'code-sends-recipient'
  /** one-time codes sent per client IP */
  | 'code-sends-ip'
  /** wrong codes typed per client IP, across challenges */
  | 'code-failures-ip'
  /** wrong operator passwords per operator login (admin API and /operator) → lockout */
  | 'operator-failures-login'
  /** wrong operator passwords per client IP */
  | 'operator-failures-ip'
  /** authorization requests (`/auth`, PAR) per client IP: each may store an interaction */
  | 'authorize-ip'
  /** end-session requests (`/session/end`) per client IP: each may store a session */
  | 'end-session-ip'
  /** returns at the federation callback per client IP */
  | 'federation-callback-ip';

export interface LimitState {
  blocked: boolean;
  /** seconds until the block ends (0 when not blocked) */
  retryAfter: number;
}

const OPEN: LimitState = { blocked: false, retryAfter: 0 };

/**
 * Anonymous requests that make the store write something (an interaction, a session) are counted
 * per client IP, so no one can grow the store without bound. Generous: a whole office behind one
 * address signs in to many services. (Kept apart from the sign-in rules above.)
 */
export const ANONYMOUS_REQUEST_LIMITS = {
  'authorize-ip': { points: 600, duration: 600 },
  'end-session-ip': { points: 120, duration: 600 },
  'federation-callback-ip': { points: 120, duration: 600 },
} as const;

function anonymousRequestLimiters(store: Store): Record<keyof typeof ANONYMOUS_REQUEST_LIMITS, RateLimiterAbstract> {
  const limiter = (keyPrefix: string, rule: keyof typeof ANONYMOUS_REQUEST_LIMITS) => store.rateLimiter({ keyPrefix, ...ANONYMOUS_REQUEST_LIMITS[rule] });
  return { 'authorize-ip': limiter('azi', 'authorize-ip'), 'end-session-ip': limiter('esi', 'end-session-ip'), 'federation-callback-ip': limiter('fci', 'federation-callback-ip') };
}

export class Limits {
  private readonly limiters: Record<LimitRule, RateLimiterAbstract>;

  constructor(store: Store, limits: Config['limits']) {
    const lock = limits.loginLockoutSeconds;
    this.limiters = {
      'login-failures-account': store.rateLimiter({ keyPrefix: 'lfa', points: limits.loginMaxFailures, duration: lock, blockDuration: lock }),
      'login-failures-ip': store.rateLimiter({ keyPrefix: 'lfi', points: limits.loginMaxPerIp, duration: 900, blockDuration: 900 }),
      'code-sends-recipient': store.rateLimiter({ keyPrefix: 'csr', points: limits.codeSendsPerRecipient, duration: 600 }),
      'code-sends-ip': store.rateLimiter({ keyPrefix: 'csi', points: limits.codeSendsPerIp, duration: 3600 }),
      'code-failures-ip': store.rateLimiter({ keyPrefix: 'cfi', points: 30, duration: 900, blockDuration: 900 }),
      'operator-failures-login': store.rateLimiter({ keyPrefix: 'ofl', points: limits.loginMaxFailures, duration: lock, blockDuration: lock }),
      'operator-failures-ip': store.rateLimiter({ keyPrefix: 'ofi', points: limits.loginMaxPerIp, duration: 900, blockDuration: 900 }),
      ...anonymousRequestLimiters(store),
    };
  }

  /** Counts one event; returns the state after it (blocked when the rule is now exceeded). */
  async hit(rule: LimitRule, key: string): Promise<LimitState> {
    try {
      await this.limiters[rule].consume(key);
      return OPEN;
    } catch (res) {
      if (res instanceof RateLimiterRes) return { blocked: true, retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
      throw res;
    }
  }

  /** Whether the key is already over the rule, without counting. */
  async peek(rule: LimitRule, key: string): Promise<LimitState> {
    const limiter = this.limiters[rule];
    const res = await limiter.get(key);
    if (!res || res.consumedPoints < limiter.points) return OPEN;
    return { blocked: true, retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
  }

  /** Forgets the key's count (a successful sign-in clears the failure counter). */
  async reset(rule: LimitRule, key: string): Promise<void> {
    await this.limiters[rule].delete(key);
  }

  /**
   * One attempt at a known account's secret (a password or code asked to link a bank or a
   * certificate): refused while the account is locked; a failure counts for the account and the
   * client IP; a success clears the account's count.
   */
  async accountAttempt(accountId: string, ip: string, check: () => Promise<boolean>): Promise<{ ok: true } | { ok: false; locked: boolean; retryAfter: number }> {
    const key = `account:${accountId}`;
    const locked = await this.peek('login-failures-account', key);
    if (locked.blocked) return { ok: false, locked: true, retryAfter: locked.retryAfter };
    if (await check()) {
      await this.reset('login-failures-account', key);
      return { ok: true };
    }
    const [state] = await Promise.all([this.hit('login-failures-account', key), this.hit('login-failures-ip', ip)]);
    return { ok: false, locked: state.blocked, retryAfter: state.retryAfter };
  }
}
