/**
 * The citizen's contacts (/account/contacts): the mobile number and the e-mail address with their
 * confirmation status. Adding or changing one sends a 6-digit code to the NEW contact; the change
 * waits in a flow record bound to the cabinet session until the code is typed in. Starting a
 * change (and resending the code, removing a contact) needs a sign-in within the last 5 minutes;
 * the code then has its own 5 minutes. On confirmation the account's login keys follow the
 * contact (one used by another account is refused), the change is audited and the contact it
 * replaced is told. The only confirmed contact of an account with a password cannot be removed:
 * it is the login and the recovery channel.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import {
  confirmedContacts,
  formatPhone,
  maskContact,
  normalizeEmail,
  normalizePhone,
  type Contact,
  type ContactKind,
} from '../accounts/contacts.ts';
import { afterFactorRemoval, factorRemovalRefusal } from '../methods/second-factor.ts';
import { DeliveryError } from '../notify/notifier.ts';
import type { Services } from '../services.ts';
import { DuplicateKeyError } from '../store.ts';
import type { Account } from '../accounts/account.ts';
import { UserError } from '../web/errors.ts';
import { waitUntil } from '../web/wait-until.ts';
import { FlowRecords } from '../web/flow-records.ts';
import { cabinetBinding, isFresh, requireCabinetSession, type CabinetSession } from './session.ts';
import { parseForm, text } from '../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'codes' | 'config' | 'csrf' | 'notifier' | 'provider' | 'store' | 'views'>;

const KINDS: readonly ContactKind[] = ['phone', 'email'];
/** The purpose of the codes sent to a new contact (a code for another purpose does not answer). */
export const CONTACT_CODE_PURPOSE = 'contact-change';
/** A pending change outlives its code (5 minutes) a little, so "resend" still finds it. */
const PENDING_TTL_SECONDS = 900;

/** A change waiting for its code: stored as a `VkhodFlow` record `contact-change.<session uid>.<kind>`. */
interface PendingChange {
  accountId: string;
  kind: ContactKind;
  /** the new contact, normalized */
  value: string;
  challengeId: string;
  startedAt: string;
}

const pendingChanges = new FlowRecords<PendingChange>('contact-change', PENDING_TTL_SECONDS);

/** What went wrong with one contact's form, shown in its section. */
interface Problem {
  kind: ContactKind;
  error: string;
  status: number;
  /** what the citizen typed, shown again */
  value?: string;
}

/** The account's contact of `kind` and whether it is confirmed. */
function contactOf(a: Account, kind: ContactKind): { value?: string; confirmed: boolean } {
  return kind === 'phone'
    ? { value: a.phone, confirmed: Boolean(a.phone && a.phoneVerified) }
    : { value: a.email, confirmed: Boolean(a.email && a.emailVerified) };
}

/** The account with `value` as its confirmed contact of `kind`, or without one. */
function withContact(a: Account, kind: ContactKind, value: string | undefined): Account {
  return kind === 'phone'
    ? { ...a, phone: value, phoneVerified: value !== undefined }
    : { ...a, email: value, emailVerified: value !== undefined };
}

/** The typed contact, normalized, or the locale key of what is wrong with it. */
function parseContactOf(kind: ContactKind, raw: string): { value?: string; error?: string } {
  if (!raw.trim()) return { error: `contacts.errors.${kind}_required` };
  const value = kind === 'phone' ? normalizePhone(raw) : normalizeEmail(raw);
  return value ? { value } : { error: `contacts.errors.${kind}_invalid` };
}

const display = (c: Contact) => (c.kind === 'phone' ? formatPhone(c.value) : c.value);

export function contactsRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/contacts' });
  const { views, notifier } = services;
  const flows = () => pendingChanges.in(services.store);
  const pendingId = (s: CabinetSession, kind: ContactKind) => `${s.uid}.${kind}`;

  const kindOf = (ctx: Context): ContactKind => {
    const kind = KINDS.find((k) => k === ctx.params.kind);
    if (!kind) throw new UserError(404, 'errors.not_found');
    return kind;
  };

  async function pendingOf(s: CabinetSession, kind: ContactKind): Promise<PendingChange | undefined> {
    const found = await changeOf(s, kind);
    return found && !found.done ? found.change : undefined;
  }

  /** The session's change of `kind`, waiting for its code or done (spent) and not yet expired. */
  async function changeOf(s: CabinetSession, kind: ContactKind): Promise<{ change: PendingChange; done: boolean } | undefined> {
    const found = await flows().inspect(pendingId(s, kind));
    const saved = found?.record;
    return saved && saved.accountId === s.account.id && saved.kind === kind ? { change: saved, done: found.used } : undefined;
  }

  /**
   * Whether the change whose code a parallel request took is done: waits for that request (a few
   * seconds at most) — true once it made the change, false when it ended without (a contact taken).
   */
  async function changeSettled(s: CabinetSession, kind: ContactKind): Promise<boolean> {
    let made = false;
    await waitUntil(async () => {
      const found = await changeOf(s, kind);
      made = Boolean(found?.done);
      return !found || found.done;
    });
    return made;
  }

  /** Whether another account holds the contact the change is for. */
  async function heldByAnother(s: CabinetSession, change: PendingChange): Promise<boolean> {
    const holder = await services.accounts.findByKeyOrPendingDeletion({ kind: change.kind, value: change.value });
    return Boolean(holder && holder.id !== s.account.id);
  }

  /** The change is made (by this form sent earlier, or in parallel): to the contacts, told so. */
  async function confirmedAlready(ctx: Context, s: CabinetSession, change: PendingChange): Promise<void> {
    const account = await services.accounts.findActive(s.account.id);
    const now = account && contactOf(account, change.kind);
    if (!now?.confirmed || now.value !== change.value) return refuse(ctx, s, change.kind, 'contacts.errors.no_pending', 410);
    done(ctx, `${change.kind}_confirmed`);
  }

  /** Why removing the contact of `kind` is refused (a locale key), or undefined when it may go. */
  function removalProblem(a: Account, kind: ContactKind): string | undefined {
    const c = contactOf(a, kind);
    if (!c.value) return 'contacts.errors.not_found';
    const without = withContact(a, kind, undefined);
    if (c.confirmed && a.passwordHash && !confirmedContacts(without).length) return 'contacts.errors.only_contact';
    return factorRemovalRefusal(a, without, services.config.requireSecondFactor);
  }

  async function show(ctx: Context, s: CabinetSession, problem?: Problem): Promise<void> {
    const a = s.account;
    const notice = views.notice(ctx, 'contacts');
    const contacts = await Promise.all(
      KINDS.map(async (kind) => {
        const c = contactOf(a, kind);
        const pending = await pendingOf(s, kind);
        const mine = problem?.kind === kind ? problem : undefined;
        const refusal = removalProblem(a, kind);
        // An unconfirmed contact (given by a bank, say) is offered for confirmation as it is.
        const action = !c.value ? 'add' : c.confirmed ? 'change' : 'confirm';
        return {
          kind,
          value: c.value ? display({ kind, value: c.value }) : undefined,
          confirmed: c.confirmed,
          pending: pending ? maskContact({ kind, value: pending.value }) : undefined,
          input: mine ? (mine.value ?? '') : c.value && !c.confirmed ? c.value : '',
          inputLabel: `contacts.${kind}.${c.value && c.confirmed ? 'new_label' : 'label'}`,
          submit: `contacts.${kind}.${action}`,
          error: mine?.error,
          removable: !refusal,
          onlyContact: refusal === 'contacts.errors.only_contact',
        };
      }),
    );
    views.render(
      ctx,
      'contacts',
      { title: 'contacts.title', csrf: ctx.state.csrf(cabinetBinding(s)), fresh: isFresh(s), notice, contacts },
      problem?.status ?? 200,
    );
  }

  const done = (ctx: Context, notice?: string) => {
    ctx.status = 303;
    ctx.redirect(notice ? `/account/contacts?notice=${notice}` : '/account/contacts');
  };

  const refuse = (
    ctx: Context,
    s: CabinetSession,
    kind: ContactKind,
    key: string,
    status: number,
    params?: Record<string, unknown>,
    value?: string,
  ) => show(ctx, s, { kind, error: views.t(ctx, key, params), status, value });

  /** Sends a code to the new contact: the challenge, or the refusal to show. */
  async function sendCode(
    ctx: Context,
    s: CabinetSession,
    to: Contact,
  ): Promise<{ challengeId: string } | { key: string; status: number; params?: Record<string, unknown> }> {
    try {
      const sent = await services.codes.send({
        purpose: CONTACT_CODE_PURPOSE,
        to,
        ip: ctx.ip,
        accountId: s.account.id,
        message: {
          subject: views.t(ctx, 'messages.contact.code_subject'),
          text: (code) => views.t(ctx, 'messages.contact.code', { code }),
        },
      });
      if (!sent.sent) return { key: 'code.send_limited', status: 429, params: { minutes: Math.ceil(sent.retryAfter / 60) } };
      return { challengeId: sent.challengeId };
    } catch (err) {
      if (err instanceof DeliveryError) return { key: 'code.delivery_failed', status: 503 };
      throw err;
    }
  }

  /** Tells a contact what happened; best effort: a notice that fails to go never undoes the change. */
  async function notify(ctx: Context, to: Contact | undefined, key: string, params: Record<string, unknown> = {}): Promise<void> {
    if (!to) return;
    await notifier.send(to, { subject: views.t(ctx, 'messages.contact.subject'), text: views.t(ctx, key, params) }).catch(() => undefined);
  }

  router.get('/', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (s) await show(ctx, s);
  });

  /** Starts adding or changing a contact: a code to the new one. */
  router.post('/:kind', async (ctx) => {
    const kind = kindOf(ctx);
    const s = await requireCabinetSession(services, ctx, true);
    if (!s) return;
    const raw = parseForm(ctx, { value: text(256) }).value;
    const parsed = parseContactOf(kind, raw);
    if (!parsed.value) return refuse(ctx, s, kind, parsed.error!, 400, undefined, raw);
    const c = contactOf(s.account, kind);
    if (c.confirmed && c.value === parsed.value) return refuse(ctx, s, kind, `contacts.errors.${kind}_same`, 400, undefined, raw);
    const sent = await sendCode(ctx, s, { kind, value: parsed.value });
    if (!('challengeId' in sent)) return refuse(ctx, s, kind, sent.key, sent.status, sent.params, raw);
    const pending: PendingChange = {
      accountId: s.account.id,
      kind,
      value: parsed.value,
      challengeId: sent.challengeId,
      startedAt: new Date().toISOString(),
    };
    await flows().save(pendingId(s, kind), pending);
    done(ctx);
  });

  /** The code typed in: the new contact replaces the old one. */
  router.post('/:kind/confirm', async (ctx) => {
    const kind = kindOf(ctx);
    // The change was started from a fresh sign-in and is bound to this session; the code is the proof now.
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const found = await changeOf(s, kind);
    if (!found) return refuse(ctx, s, kind, 'contacts.errors.no_pending', 410);
    const { change: pending } = found;
    // The form sent again after its change was made (the back button): told it is confirmed.
    if (found.done) return confirmedAlready(ctx, s, pending);
    const code = parseForm(ctx, { code: text(32) }).code;
    const outcome = await services.codes.verify({
      challengeId: pending.challengeId,
      purpose: CONTACT_CODE_PURPOSE,
      recipient: pending.value,
      code,
      ip: ctx.ip,
    });
    // The code was taken a moment ago by a parallel request (a double click): its outcome is this one's.
    if (outcome === 'used' && (await changeSettled(s, kind))) return confirmedAlready(ctx, s, pending);
    // …and found it taken by another account: the same answer as that request's.
    if (outcome === 'used' && (await heldByAnother(s, pending))) return refuse(ctx, s, kind, `contacts.errors.${kind}_taken`, 409);
    if (outcome !== 'ok') return refuse(ctx, s, kind, `code.${outcome}`, outcome === 'wrong' ? 400 : outcome === 'limited' ? 429 : 410);

    const added: Contact = { kind, value: pending.value };
    let previous = s.account;
    const replacedIn = (a: Account): Contact | undefined => {
      const old = contactOf(a, kind);
      return old.confirmed && old.value !== added.value ? { kind, value: old.value! } : undefined;
    };
    try {
      await services.accounts.modify(
        s.account.id,
        (a) => {
          previous = a;
          return withContact(a, kind, added.value);
        },
        (before) => {
          const replaced = replacedIn(before);
          return [
            {
              type: 'contact.changed',
              actor: 'self',
              ip: ctx.ip,
              outcome: 'success',
              details: {
                kind,
                action: replaced ? 'changed' : 'added',
                ...(replaced ? { from: maskContact(replaced) } : {}),
                to: maskContact(added),
              },
            },
          ];
        },
      );
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      // Its code is spent: the change cannot go on.
      await flows().discard(pendingId(s, kind));
      await services.audit.record({
        type: 'contact.changed',
        accountId: s.account.id,
        actor: 'self',
        ip: ctx.ip,
        outcome: 'failure',
        details: { kind, reason: 'taken' },
      });
      return refuse(ctx, s, kind, `contacts.errors.${kind}_taken`, 409);
    }
    // Done: kept (spent) until it expires, so that the same form sent again is told so — unless a
    // newer change (another code) took its place meanwhile: that one still waits for its code.
    if ((await flows().inspect(pendingId(s, kind)))?.record.challengeId === pending.challengeId) await flows().consume(pendingId(s, kind));
    const replaced = replacedIn(previous);
    if (replaced) await notify(ctx, replaced, `messages.contact.${kind}_replaced`, { to: maskContact(added) });
    else
      await notify(
        ctx,
        confirmedContacts(previous).find((c) => c.kind !== kind),
        `messages.contact.${kind}_added`,
        { to: maskContact(added) },
      );
    done(ctx, `${kind}_${replaced ? 'changed' : 'added'}`);
  });

  router.post('/:kind/resend', async (ctx) => {
    const kind = kindOf(ctx);
    const s = await requireCabinetSession(services, ctx, true);
    if (!s) return;
    const pending = await pendingOf(s, kind);
    if (!pending) return refuse(ctx, s, kind, 'contacts.errors.no_pending', 410);
    const sent = await sendCode(ctx, s, { kind, value: pending.value });
    if (!('challengeId' in sent)) return refuse(ctx, s, kind, sent.key, sent.status, sent.params);
    await flows().save(pendingId(s, kind), { ...pending, challengeId: sent.challengeId });
    done(ctx, 'code_resent');
  });

  router.post('/:kind/cancel', async (ctx) => {
    const kind = kindOf(ctx);
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    await flows().discard(pendingId(s, kind));
    done(ctx);
  });

  router.post('/:kind/remove', async (ctx) => {
    const kind = kindOf(ctx);
    const s = await requireCabinetSession(services, ctx, true);
    if (!s) return;
    const problem = removalProblem(s.account, kind);
    if (problem === 'contacts.errors.not_found') throw new UserError(404, problem);
    if (problem) return refuse(ctx, s, kind, problem, 409);
    const c = contactOf(s.account, kind);
    const removed: Contact = { kind, value: c.value! };
    await services.accounts.modify(
      s.account.id,
      (a) => {
        // The same rules against the account as it is now (a change in another tab meanwhile).
        const late = removalProblem(a, kind);
        if (late) throw new UserError(409, late);
        return afterFactorRemoval(withContact(a, kind, undefined));
      },
      { type: 'contact.removed', actor: 'self', ip: ctx.ip, outcome: 'success', details: { kind, value: maskContact(removed) } },
    );
    if (c.confirmed) await notify(ctx, removed, `messages.contact.${kind}_removed`);
    done(ctx, `${kind}_removed`);
  });

  return router;
}
