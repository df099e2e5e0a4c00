/**
 * The operator pages' session: a signed, httpOnly, SameSite=Strict cookie (Secure in
 * production) valid for 8 hours, scoped to /operator. It names the operator and when it was
 * issued; every request re-reads the operator, so a removed operator or a reset password ends
 * the sessions at once.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Services } from '../services.ts';
import type { Operator } from './operators.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'config' | 'operators'>;

export const OPERATOR_COOKIE = 'vkhod.operator';
export const OPERATOR_SESSION_SECONDS = 8 * 3600;
export const OPERATOR_PATH = '/operator';

export interface OperatorSession {
  operator: Operator;
  /** random per sign-in: part of the CSRF binding of the operator's forms */
  sid: string;
}

interface Saved {
  login: string;
  sid: string;
  /** issued at, ms since epoch */
  iat: number;
}

function cookieOptions(services: Deps) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    signed: true,
    secure: services.config.production,
    path: OPERATOR_PATH,
    overwrite: true,
  };
}

export function startOperatorSession(services: Deps, ctx: Context, operator: Operator): OperatorSession {
  const saved: Saved = { login: operator.login, sid: randomBytes(16).toString('base64url'), iat: Date.now() };
  ctx.cookies.set(OPERATOR_COOKIE, Buffer.from(JSON.stringify(saved)).toString('base64url'), {
    ...cookieOptions(services),
    maxAge: OPERATOR_SESSION_SECONDS * 1000,
  });
  return { operator, sid: saved.sid };
}

export function endOperatorSession(services: Deps, ctx: Context): void {
  ctx.cookies.set(OPERATOR_COOKIE, null, cookieOptions(services));
}

/** The signed-in operator, or undefined (no cookie, bad signature, expired, operator gone or password changed). */
export async function operatorSession(services: Deps, ctx: Context): Promise<OperatorSession | undefined> {
  const raw = ctx.cookies.get(OPERATOR_COOKIE, { signed: true });
  if (!raw || raw.length > 1024) return undefined;
  let saved: Saved;
  try {
    saved = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Saved;
  } catch {
    return undefined;
  }
  if (typeof saved?.login !== 'string' || typeof saved.sid !== 'string' || typeof saved.iat !== 'number') return undefined;
  if (Date.now() - saved.iat > OPERATOR_SESSION_SECONDS * 1000 || saved.iat > Date.now() + 60_000) return undefined;
  const operator = await services.operators.find(saved.login);
  if (!operator || saved.iat < Date.parse(operator.passwordChangedAt)) return undefined;
  return { operator, sid: saved.sid };
}

/** The CSRF binding of a signed-in operator's forms. */
export function operatorBinding(session: OperatorSession): string {
  return `operator:${session.operator.login}:${session.sid}`;
}
