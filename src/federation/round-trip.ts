/**
 * The round trip to a bank and back, shared by the sign-in (inside an interaction) and the
 * cabinet (linking a bank): what is remembered while the citizen is at the bank (state, nonce,
 * PKCE verifier in a flow record keyed by state), the browser binding (a signed cookie holding the
 * state, so a response started in another browser is refused), and the error page.
 */
import type { Context } from 'koa';
import { BankError, type BankRequest } from '../methods/bank.ts';
import type { Services } from '../services.ts';
import { FlowRecords } from '../web/flow-records.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'audit' | 'bank' | 'config' | 'store' | 'views'>;

const COOKIE = 'vkhod.fed';
const TTL_SECONDS = 900;

export interface PendingBank extends Omit<BankRequest, 'url'> {
  /** where the sign-in started: an interaction's sign-in page, the cabinet, or the recovery page */
  mode: 'interaction' | 'cabinet' | 'recovery';
  /** the interaction uid, or the cabinet's provider session uid (recovery: a constant; the cookie binds it) */
  uid: string;
}

/** Keyed by the OIDC state sent to the bank. */
const bankTrips = new FlowRecords<PendingBank>('fed', TTL_SECONDS);

/** Starts the round trip: remembers it, binds it to this browser, and sends the browser to the bank. */
export async function sendToBank(services: Deps, ctx: Context, bankId: string, binding: Pick<PendingBank, 'mode' | 'uid'>): Promise<void> {
  const request = await services.bank.start(bankId, services.views.locale(ctx));
  const pending: PendingBank = { ...binding, bankId, state: request.state, nonce: request.nonce, verifier: request.verifier };
  await bankTrips.in(services.store).save(request.state, pending);
  ctx.cookies.set(COOKIE, request.state, {
    httpOnly: true,
    sameSite: 'lax',
    signed: true,
    secure: services.config.production,
    maxAge: TTL_SECONDS * 1000,
    path: '/',
    overwrite: true,
  });
  await services.audit.record({
    type: 'federation.started',
    ip: ctx.ip,
    outcome: 'success',
    details: { bank: bankId, mode: binding.mode },
  });
  ctx.status = 303;
  ctx.redirect(request.url);
}

/**
 * The round trip this response belongs to, when it came back to the browser that started it
 * (the cookie's state equals the response's state). `take` also ends it: one response per trip —
 * of two racing with one state, only one gets the trip.
 */
export async function pendingBank(services: Deps, ctx: Context, take: boolean): Promise<PendingBank | undefined> {
  const state = typeof ctx.query.state === 'string' ? ctx.query.state : undefined;
  const cookie = ctx.cookies.get(COOKIE, { signed: true });
  if (!state || !cookie || cookie !== state || state.length > 128) return undefined;
  const trips = bankTrips.in(services.store);
  if (!take) return trips.load(state);
  const pending = await trips.take(state);
  if (pending) ctx.cookies.set(COOKIE, null, { path: '/', signed: true, overwrite: true });
  return pending;
}

const STATUS: Record<string, number> = {
  unavailable: 502,
  cancelled: 400,
  invalid_response: 400,
  unknown_bank: 404,
  state: 400,
  already_linked: 409,
  linked_elsewhere: 409,
  conflict: 409,
  name_mismatch: 409,
  no_identity: 422,
  bank_no_account: 404,
};

/** A page the citizen can act on: what happened and the way back. Never a 500. */
export function showBankProblem(
  services: Deps,
  ctx: Context,
  problem: string,
  back: { href: string; label: string },
  bankName?: string,
  texts = 'bank.errors',
): void {
  services.views.render(
    ctx,
    'federation-problem',
    {
      title: 'bank.problem_title',
      message: services.views.t(ctx, `${texts}.${problem}`, { bank: bankName ?? services.views.t(ctx, 'bank.the_bank') }),
      back,
    },
    STATUS[problem] ?? 400,
  );
}

export function bankProblemOf(err: unknown): string {
  if (err instanceof BankError) return err.code;
  throw err;
}
