/**
 * The citizen's cabinet signs in through vkhod itself: it is a first-party client
 * (`vkhod-cabinet`, response_type `none`) and reads the provider's own session. Changing how the
 * account signs in needs a sign-in within the last 5 minutes (a fresh one is asked otherwise).
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { RECENT_SIGN_IN_SECONDS } from '../accounts/levels.ts';
import type { Services } from '../services.ts';
import type { Account } from '../accounts/account.ts';
import { UserError } from '../web/errors.ts';

import { CABINET_CLIENT_ID } from './client.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'config' | 'csrf' | 'provider'>;

export { CABINET_CLIENT_ID, cabinetClient } from './client.ts';
/** Shared with the in-flow upgrade page (flows/sign-in/upgrade.ts): one rule for changing identity data. */
export const FRESH_SECONDS = RECENT_SIGN_IN_SECONDS;
const COOKIE = 'vkhod.cabinet';

export interface CabinetSession {
  account: Account;
  /** provider session uid: the CSRF binding of cabinet forms */
  uid: string;
  /** seconds since epoch */
  authTime: number;
  amr: string[];
  acr?: string;
}

export async function cabinetSession(services: Deps, ctx: Context): Promise<CabinetSession | undefined> {
  const session = await services.provider.Session.get(ctx as never);
  if (!session.accountId) return undefined;
  const account = await services.accounts.findActive(session.accountId);
  if (!account) return undefined;
  return { account, uid: session.uid, authTime: session.loginTs ?? 0, amr: session.amr ?? [], acr: session.acr };
}

export function isFresh(session: CabinetSession): boolean {
  return Date.now() / 1000 - session.authTime <= FRESH_SECONDS;
}

/** A local path to come back to; anything else becomes /account. */
export function localPath(value: unknown): string {
  return typeof value === 'string' && /^\/account(?:[/?#]|$)/.test(value) && !value.includes('//') ? value.slice(0, 512) : '/account';
}

/** What the citizen signs in with, to pre-fill a fresh sign-in: the confirmed mobile, else e-mail. */
export function loginHintOf(account: Account): string | undefined {
  if (account.phone && account.phoneVerified) return account.phone;
  if (account.email && account.emailVerified) return account.email;
  return undefined;
}

/**
 * Sends the browser through vkhod's sign-in (a fresh one when `fresh`) and back to `returnTo`;
 * `loginHint` pre-fills the login of a re-sign-in; `acrValues` asks the session for more (step-up).
 */
export function startCabinetSignIn(
  services: Deps,
  ctx: Context,
  returnTo: string,
  fresh: boolean,
  loginHint?: string,
  /** an acr the session must reach (a second factor asked of a one-factor session) */
  acrValues?: string,
): void {
  const state = randomBytes(16).toString('base64url');
  ctx.cookies.set(COOKIE, Buffer.from(JSON.stringify({ state, returnTo: localPath(returnTo) })).toString('base64url'), {
    httpOnly: true,
    sameSite: 'lax',
    signed: true,
    secure: services.config.production,
    maxAge: 600_000,
    path: '/account',
    overwrite: true,
  });
  const params = new URLSearchParams({
    client_id: CABINET_CLIENT_ID,
    response_type: 'none',
    redirect_uri: `${services.config.issuer}/account/callback`,
    scope: 'openid',
    state,
    ...(fresh ? { max_age: '0' } : {}),
    ...(loginHint ? { login_hint: loginHint } : {}),
    ...(acrValues ? { acr_values: acrValues } : {}),
  });
  ctx.redirect(`/auth?${params}`);
}

/** The redirect back from the sign-in: checks state and returns where to go, or undefined. */
export function finishCabinetSignIn(services: Deps, ctx: Context): string | undefined {
  const raw = ctx.cookies.get(COOKIE, { signed: true });
  ctx.cookies.set(COOKIE, null, { path: '/account', signed: true, overwrite: true });
  if (!raw) return undefined;
  try {
    const saved = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { state: string; returnTo: string };
    return saved.state === ctx.query.state ? localPath(saved.returnTo) : undefined;
  } catch {
    return undefined;
  }
}

/** The CSRF binding of cabinet forms: the provider session. */
export const cabinetBinding = (s: CabinetSession) => `cabinet:${s.uid}`;

/**
 * The cabinet session for a page, or undefined after redirecting a GET to sign in (a fresh
 * sign-in when `fresh`). POSTs without a session or freshness get a 401/403 page, and every POST
 * must carry the CSRF token bound to the session.
 */
export async function requireCabinetSession(services: Deps, ctx: Context, fresh: boolean): Promise<CabinetSession | undefined> {
  const s = await cabinetSession(services, ctx);
  if (!s || (fresh && !isFresh(s))) {
    if (ctx.method === 'GET') {
      startCabinetSignIn(services, ctx, ctx.originalUrl, Boolean(s), s && loginHintOf(s.account));
      return undefined;
    }
    if (!s) throw new UserError(401, 'cabinet.signed_out');
    throw new UserError(403, 'cabinet.reauth_needed');
  }
  if (ctx.method === 'POST') services.csrf.verify(ctx, cabinetBinding(s));
  return s;
}
