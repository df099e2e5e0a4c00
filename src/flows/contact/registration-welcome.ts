/**
 * Registering outside a relying party ends signed in, in the cabinet (and so does a recovery
 * that proved two factors, recovery-esign.ts). The registration leaves a
 * single-use ticket (a flow record, 2 minutes) bound to this browser by a signed httpOnly cookie
 * and sends the browser to /account; the cabinet's sign-in request arrives at the interaction,
 * which takes the ticket instead of asking for the password just set — then, as after a password
 * sign-in, a required second factor is still asked for (enrolled, after the contact just proven).
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Contact } from '../../accounts/contacts.ts';
import type { Services } from '../../services.ts';
import type { Account } from '../../accounts/account.ts';
import { FlowRecords } from '../../web/flow-records.ts';
import type { InteractionDetails } from '../interaction/context.ts';
import { advance } from '../sign-in/advance.ts';
import type { SignIn } from '../sign-in/sign-in-result.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'bank' | 'config' | 'esignature' | 'limits' | 'provider' | 'store' | 'views'>;

const COOKIE = 'vkhod.welcome';
const TTL_SECONDS = 120;

interface WelcomeTicket {
  accountId: string;
  /** the contact a registration just proved (enrolment of a required factor starts from it) */
  contactKind?: Contact['kind'];
  /** what was proven: `pwd` after a registration; a recovery's own (e.g. `sc`, `mfa`) */
  amr: string[];
}

/** A registration's (or a two-factor recovery's) ticket into the cabinet, taken once. */
export const welcomeTickets = new FlowRecords<WelcomeTicket>('welcome', TTL_SECONDS);

export async function welcomeIntoCabinet(
  services: Deps,
  ctx: Context,
  account: Account,
  contactKind: Contact['kind'] | undefined,
  amr: string[] = ['pwd'],
): Promise<void> {
  const ticket = randomBytes(16).toString('base64url');
  const record: WelcomeTicket = { accountId: account.id, ...(contactKind ? { contactKind } : {}), amr };
  await welcomeTickets.in(services.store).save(ticket, record);
  ctx.cookies.set(COOKIE, ticket, {
    httpOnly: true,
    sameSite: 'lax',
    signed: true,
    secure: services.config.production,
    maxAge: TTL_SECONDS * 1000,
    path: '/interaction',
    overwrite: true,
  });
  ctx.status = 303;
  ctx.redirect('/account');
}

/** At an interaction's sign-in: a ticket left by this browser's registration signs it in. True when it did. */
export async function resumeWelcome(services: Deps, ctx: Context, details: InteractionDetails): Promise<boolean> {
  const ticket = ctx.cookies.get(COOKIE, { signed: true });
  if (!ticket) return false;
  ctx.cookies.set(COOKIE, null, { path: '/interaction', signed: true, overwrite: true });
  // single use: whoever takes it first signs in, a replay finds nothing
  const record = /^[A-Za-z0-9_-]{22}$/.test(ticket) ? await welcomeTickets.in(services.store).take(ticket) : undefined;
  if (!record?.accountId) return false;
  const account = await services.accounts.findActive(record.accountId);
  if (!account) return false;
  const signIn: SignIn = {
    account,
    amr: record.amr?.length ? record.amr : ['pwd'],
    remember: true,
    method: record.contactKind ? 'registration' : 'recovery',
  };
  await advance(
    services,
    ctx,
    details,
    signIn,
    record.contactKind ? { contactProven: record.contactKind === 'phone' ? 'sms' : 'otp' } : {},
  );
  return true;
}
