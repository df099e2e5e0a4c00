/**
 * Rate limits and lockouts (DESIGN §6), counted in the store so every process shares them.
 * Each rule is named; flows ask `hit` (count one) or `peek` (is it blocked?) by key. Attempts at
 * a secret go through `attempt`: the attempt is reserved (counted atomically in the store)
 * before the secret is checked, so parallel guesses cannot all be checked against one count.
 */
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config/load.ts';
import type { Store } from '../store.ts';

export type LimitRule =
  /**
   * wrong sign-in attempts (passwords, second factors) per account — key `account:<id>`, or
   * `login:<kind>:<value>` for a typed login that matches no account → lockout
   */
  | 'login-failures-account'
  /** one lockout notice per account and lockout period (key `account:<id>`) */
  | 'lockout-notices'
  /** wrong sign-in attempts per client IP */
  | 'login-failures-ip'
  /** one-time codes sent per purpose and recipient (3 per 10 minutes), key `<purpose>:<recipient>` */
  | 'code-sends-recipient'
  /** one-time codes sent per client IP */
  | 'code-sends-ip'
  /** wrong codes typed per client IP, across challenges */
  | 'code-failures-ip'
  /** letters with a postal code asked for per account (3 per 30 days) */
  | 'post-letters-account'
  /** wrong postal codes per account over all its letters (10, never reset) → the postal path is locked */
  | 'post-code-failures-account'
  /** wrong operator passwords per operator login (admin API and /operator) → lockout */
  | 'operator-failures-login'
  /** wrong operator passwords per client IP */
  | 'operator-failures-ip'
  /** authorization requests (`/auth`, PAR) per client IP: each may store an interaction */
  | 'authorize-ip'
  /** end-session requests (`/session/end`) per client IP: each may store a session */
  | 'end-session-ip'
  /** returns at the federation callback per client IP */
  | 'federation-callback-ip'
  /** wrong user codes typed at /device (device authorization grant) per client IP → blocked for a while */
  | 'device-code-failures-ip'
  /** polls of one device code (key: its hash): more than one per interval → `slow_down` */
  | 'device-polls'
  /** services entered by single sign-on recorded in the audit: one per account, service and hour (key `<account> <client>`) */
  | 'sso-uses';

export interface LimitState {
  blocked: boolean;
  /** seconds until the block ends (0 when not blocked) */
  retryAfter: number;
}

export interface Reservation {
  /** false: the rule is already exceeded — the attempt must not go ahead */
  allowed: boolean;
  /** this reservation used the last point: a failure now means a lockout */
  reached: boolean;
  retryAfter: number;
}

/** Letters with a postal code per account and 30 days (DESIGN §2, issue 8). */
export const POST_LETTERS_PER_30_DAYS = 3;
/** Wrong postal codes per account, over all its letters, before the postal path is locked. */
export const POST_CODE_MAX_FAILURES = 10;

/**
 * The device authorization grant (RFC 8628): a user code is 9 digits (10⁹ values) and lives 10
 * minutes; 10 wrong codes per address and 15 minutes make guessing a live one hopeless. A device
 * polls a pending code at most once per `pollInterval` seconds.
 */
export const DEVICE_CODE_LIMITS = { wrongCodesPerIp: 10, wrongCodesWindow: 900, pollInterval: 5 } as const;

const OPEN: LimitState = { blocked: false, retryAfter: 0 };

/**
 * Anonymous requests that make the store write something (an interaction, a session) are counted
 * per client IP, so no one can grow the store without bound. Generous: a whole office behind one
 * address signs in to many services. (Kept apart from the sign-in rules above.) The authorization
 * budget's points are the default of VKHOD_AUTHORIZE_MAX_PER_IP.
 */
/**
 * A service entered by single sign-on is recorded once per this many seconds per account and
 * service: a relying party renewing its tokens silently (prompt=none every few minutes) would
 * otherwise fill the audit trail and push everything else out of the citizen's history.
 */
export const SSO_USE_RECORD_SECONDS = 3600;

export const ANONYMOUS_REQUEST_LIMITS = {
  'authorize-ip': { points: 600, duration: 600 },
  'end-session-ip': { points: 120, duration: 600 },
  'federation-callback-ip': { points: 120, duration: 600 },
} as const;

function anonymousRequestLimiters(
  store: Store,
  limits: Config['limits'],
): Record<keyof typeof ANONYMOUS_REQUEST_LIMITS, RateLimiterAbstract> {
  const limiter = (keyPrefix: string, rule: keyof typeof ANONYMOUS_REQUEST_LIMITS, points?: number) =>
    store.rateLimiter({ keyPrefix, ...ANONYMOUS_REQUEST_LIMITS[rule], ...(points ? { points } : {}) });
  return {
    'authorize-ip': limiter('azi', 'authorize-ip', limits.authorizeMaxPerIp),
    'end-session-ip': limiter('esi', 'end-session-ip'),
    'federation-callback-ip': limiter('fci', 'federation-callback-ip'),
  };
}

/** An attempt at a secret: refused unchecked (locked), or checked — and whether it locked now. */
export type AttemptOutcome<T> =
  { checked: false; locked: true; retryAfter: number } | { checked: true; result: T; locked: boolean; retryAfter: number };

export class Limits {
  private readonly limiters: Record<LimitRule, RateLimiterAbstract>;
  /** The attempt at each subject's secret in progress in this process, and those waiting behind it. */
  private readonly inProgress = new Map<string, Promise<unknown>>();

  /**
   * `onLockout` is told when an account becomes locked by wrong secrets (once per lockout
   * period); it notifies the account's contacts.
   */
  constructor(
    store: Store,
    limits: Config['limits'],
    private readonly onLockout?: (accountId: string) => Promise<void>,
  ) {
    const lock = limits.loginLockoutSeconds;
    this.limiters = {
      'login-failures-account': store.rateLimiter({
        keyPrefix: 'lfa',
        points: limits.loginMaxFailures,
        duration: lock,
        blockDuration: lock,
      }),
      'lockout-notices': store.rateLimiter({ keyPrefix: 'lkn', points: 1, duration: lock }),
      'login-failures-ip': store.rateLimiter({ keyPrefix: 'lfi', points: limits.loginMaxPerIp, duration: 900, blockDuration: 900 }),
      'code-sends-recipient': store.rateLimiter({ keyPrefix: 'csr', points: limits.codeSendsPerRecipient, duration: 600 }),
      'code-sends-ip': store.rateLimiter({ keyPrefix: 'csi', points: limits.codeSendsPerIp, duration: 3600 }),
      'code-failures-ip': store.rateLimiter({ keyPrefix: 'cfi', points: 30, duration: 900, blockDuration: 900 }),
      'post-letters-account': store.rateLimiter({ keyPrefix: 'pla', points: POST_LETTERS_PER_30_DAYS, duration: 30 * 86400 }),
      // duration 0: never forgotten — after 10 wrong codes only a service centre confirms.
      'post-code-failures-account': store.rateLimiter({ keyPrefix: 'pcf', points: POST_CODE_MAX_FAILURES, duration: 0 }),
      'operator-failures-login': store.rateLimiter({
        keyPrefix: 'ofl',
        points: limits.loginMaxFailures,
        duration: lock,
        blockDuration: lock,
      }),
      'operator-failures-ip': store.rateLimiter({ keyPrefix: 'ofi', points: limits.loginMaxPerIp, duration: 900, blockDuration: 900 }),
      ...anonymousRequestLimiters(store, limits),
      'device-code-failures-ip': store.rateLimiter({
        keyPrefix: 'dcf',
        points: DEVICE_CODE_LIMITS.wrongCodesPerIp,
        duration: DEVICE_CODE_LIMITS.wrongCodesWindow,
        blockDuration: DEVICE_CODE_LIMITS.wrongCodesWindow,
      }),
      'device-polls': store.rateLimiter({ keyPrefix: 'dcp', points: 1, duration: DEVICE_CODE_LIMITS.pollInterval }),
      'sso-uses': store.rateLimiter({ keyPrefix: 'sso', points: 1, duration: SSO_USE_RECORD_SECONDS }),
    };
  }

  /** Counts one event; returns the state after it (blocked when the rule is now exceeded). */
  async hit(rule: LimitRule, key: string): Promise<LimitState> {
    const limiter = this.limiters[rule];
    try {
      const res = await limiter.consume(key);
      if (rule === 'login-failures-account' && key.startsWith('account:') && res.consumedPoints >= limiter.points)
        await this.lockedOut(key.slice('account:'.length));
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
   * Reserves one event against the rule before the thing it limits happens: counted atomically
   * in the store, so of N parallel callers at most `points` are allowed. `reached` says this
   * reservation used the last point (a failure now locks).
   */
  async reserve(rule: LimitRule, key: string): Promise<Reservation> {
    const limiter = this.limiters[rule];
    try {
      const res = await limiter.consume(key);
      return { allowed: true, reached: res.consumedPoints >= limiter.points, retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
    } catch (res) {
      if (res instanceof RateLimiterRes)
        return { allowed: false, reached: true, retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
      throw res;
    }
  }

  /** Gives back a reservation whose attempt did not fail (a right secret, or an error before the check). */
  async release(rule: LimitRule, key: string): Promise<void> {
    await this.limiters[rule].reward(key, 1);
  }

  /**
   * One attempt at a secret, race-free (DESIGN §6): the attempt is reserved for the account (or,
   * for a typed login that matches no account, for that login — so unknown logins lock exactly
   * like known ones) and for the client IP before `check` runs; a locked subject is refused
   * without checking. A success gives the reservations back (`reset` clears the account's count
   * — leave it false while a second factor is still to come); a failure keeps them, and the
   * failure that reaches the limit locks at once and tells the account's contacts (once per
   * lockout, see `onLockout`).
   */
  async attempt<T>(
    subject: { accountId?: string; login?: string },
    ip: string | undefined,
    check: () => Promise<T>,
    succeeded: (result: T) => boolean,
    options: { reset?: boolean } = {},
  ): Promise<AttemptOutcome<T>> {
    const key = subjectKey(subject);
    return this.oneAtATime(key, () => this.attemptNow(key, subject, ip, check, succeeded, options));
  }

  private async attemptNow<T>(
    key: string,
    subject: { accountId?: string; login?: string },
    ip: string | undefined,
    check: () => Promise<T>,
    succeeded: (result: T) => boolean,
    options: { reset?: boolean },
  ): Promise<AttemptOutcome<T>> {
    const perAccount = await this.reserve('login-failures-account', key);
    if (!perAccount.allowed) return { checked: false, locked: true, retryAfter: perAccount.retryAfter };
    const perIp = ip ? await this.reserve('login-failures-ip', ip) : undefined;
    if (perIp && !perIp.allowed) {
      await this.release('login-failures-account', key);
      return { checked: false, locked: true, retryAfter: perIp.retryAfter };
    }
    let result: T;
    try {
      result = await check();
    } catch (err) {
      await Promise.all([this.release('login-failures-account', key), ip ? this.release('login-failures-ip', ip) : undefined]);
      throw err;
    }
    if (succeeded(result)) {
      await Promise.all([
        (options.reset ?? true) ? this.reset('login-failures-account', key) : this.release('login-failures-account', key),
        ip ? this.release('login-failures-ip', ip) : undefined,
      ]);
      return { checked: true, result, locked: false, retryAfter: 0 };
    }
    if (perAccount.reached && subject.accountId) await this.lockedOut(subject.accountId);
    const locked = perAccount.reached || Boolean(perIp?.reached);
    const retryAfter = perAccount.reached ? perAccount.retryAfter : perIp?.reached ? perIp.retryAfter : 0;
    return { checked: true, result, locked, retryAfter };
  }

  /**
   * Runs attempts at one subject's secret one after another in this process. A reservation is
   * counted as a failure until its check says otherwise, so N parallel attempts with the right
   * secret (a double-clicked form, a script calling the admin API in parallel) met the limit with
   * nothing wrong and were refused as locked. In turn, each finds the ones before it settled: right
   * ones given back, wrong ones counted — and guesses still get no more checks than the limit.
   */
  async oneAtATime<T>(subject: string, attempt: () => Promise<T>): Promise<T> {
    const before = this.inProgress.get(subject) ?? Promise.resolve();
    const mine = before.then(attempt);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.inProgress.set(subject, settled);
    try {
      return await mine;
    } finally {
      if (this.inProgress.get(subject) === settled) this.inProgress.delete(subject);
    }
  }

  /** Whether the account is locked now (for pages that only show it). */
  async accountLocked(accountId: string): Promise<LimitState> {
    return this.peek('login-failures-account', subjectKey({ accountId }));
  }

  /** Tells the account's contacts about a lockout, at most once per lockout period. */
  private async lockedOut(accountId: string): Promise<void> {
    if (!this.onLockout) return;
    if (!(await this.reserve('lockout-notices', `account:${accountId}`)).allowed) return;
    await this.onLockout(accountId).catch(() => undefined);
  }

  /**
   * One attempt at a known account's secret (a password or code asked to link a bank or a
   * certificate): refused while the account is locked; reserved before the check (see
   * `attempt`); a failure counts for the account and the client IP; a success clears the
   * account's count.
   */
  async accountAttempt(
    accountId: string,
    ip: string,
    check: () => Promise<boolean>,
  ): Promise<{ ok: true } | { ok: false; locked: boolean; retryAfter: number }> {
    // A right secret here gives its reservation back but forgets no earlier failures: wrong second
    // factors typed on the same page (bank link) must not be cleared by the password (only a
    // completed sign-in clears the count, as in methods/password.ts).
    const outcome = await this.attempt({ accountId }, ip, check, (ok) => ok, { reset: false });
    if (outcome.checked && outcome.result) return { ok: true };
    return { ok: false, locked: outcome.locked, retryAfter: outcome.retryAfter };
  }
}

/** The lockout key: the account, or the typed login when it matches none. */
export function subjectKey(subject: { accountId?: string; login?: string }): string {
  if (subject.accountId) return `account:${subject.accountId}`;
  if (subject.login) return `login:${subject.login}`;
  throw new Error('an attempt needs an account or a login');
}
