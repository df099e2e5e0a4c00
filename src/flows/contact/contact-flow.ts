/**
 * The state machine registration and recovery share: contact → 6-digit code → final step.
 * State lives in a flow record in the store (30 minutes), addressed by an unguessable id in the
 * URL; every POST carries a CSRF token bound to that id. A flow may belong to an interaction,
 * in which case its routes live under /interaction/:uid and it returns there.
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { maskContact, parseContact, type Contact } from '../../accounts/contacts.ts';
import { DeliveryError } from '../../notify/notifier.ts';
import type { CodeMessage } from '../../methods/one-time-code.ts';
import type { Services } from '../../services.ts';
import { UserError } from '../../web/errors.ts';
import { FlowRecords } from '../../web/flow-records.ts';
import { waitUntil } from '../../web/wait-until.ts';
import { loadInteraction, type InteractionDetails } from '../interaction/context.ts';
import { parseForm, text } from '../../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'codes' | 'csrf' | 'provider' | 'store' | 'views'>;

export const FLOW_TTL_SECONDS = 1800;

export interface FlowRecord {
  id: string;
  kind: string;
  interactionUid?: string;
  contact: Contact;
  challengeId: string;
  verified: boolean;
  createdAt: string;
}

/** Registration and recovery progress, keyed by the flow's random id (it is in the URL; no prefix). */
export const contactFlows = new FlowRecords<FlowRecord>('', FLOW_TTL_SECONDS);

export interface ContactFlowSpec {
  /** `register` or `recover`: the URL segment, the locale namespace and the code purpose. */
  kind: string;
  /**
   * The message for this contact. `answerable: false` sends a notice instead of a code (the
   * contact's account state would make the flow pointless) while the page stays the same.
   */
  message(ctx: Context, contact: Contact): Promise<CodeMessage & { answerable: boolean }>;
  showFinal(ctx: Context, flow: FlowRecord, form: { errors?: string[]; values?: Record<string, string>; status?: number }): Promise<void>;
  submitFinal(ctx: Context, flow: FlowRecord, details: InteractionDetails | undefined): Promise<void>;
  /** Whether the flow's final step made its change (an account for the contact since the flow began, a password recovered). */
  finished(flow: FlowRecord): Promise<boolean>;
  /** More for the contact page (recovery: the ways without the phone or e-mail). */
  contactPage?(ctx: Context): Record<string, unknown>;
}

/**
 * The final step of a flow asked again after it was taken — by a parallel request (the final step
 * spends the flow before its change: `finishFlow`) or later: 409, what happened and where to go on
 * (the authorization request's sign-in, or the cabinet's).
 */
export function finalStepDone(services: Pick<Services, 'views'>, ctx: Context, flow: FlowRecord): void {
  services.views.render(
    ctx,
    'done',
    {
      title: `${flow.kind}.title`,
      message: services.views.t(ctx, `${flow.kind}.already_done`),
      next: { href: flow.interactionUid ? `/interaction/${flow.interactionUid}` : '/account', label: 'contact.sign_in' },
    },
    409,
  );
}

/** How long a final step sent twice waits for the first one's outcome. */
const FINAL_WAIT_MS = 5000;

/**
 * Spends the flow for its final step, before the change it makes (an account created, a password
 * replaced): of parallel submissions exactly one goes on. Another waits for that one's outcome
 * (`finished`): made → told it was done (409); not made (the first failed and gave the flow back,
 * or did not end in time) → asked to send the form again.
 */
export async function finishFlow(
  services: Pick<Services, 'store' | 'views'>,
  ctx: Context,
  flow: FlowRecord,
  finished: () => Promise<boolean>,
): Promise<boolean> {
  const records = contactFlows.in(services.store);
  if (await records.consume(flow.id)) return true;
  let made = false;
  await waitUntil(async () => (made = await finished()) || !(await records.inspect(flow.id))?.used, FINAL_WAIT_MS);
  if (!made) throw new UserError(409, 'contact.final_unfinished');
  finalStepDone(services, ctx, flow);
  return false;
}

/** The final step failed after it spent the flow (not for the data: the store, say): live again, so that the form may be sent again. */
export async function reopenFlow(services: Pick<Services, 'store'>, flow: FlowRecord): Promise<void> {
  await contactFlows.in(services.store).save(flow.id, flow);
}

export class ContactFlow {
  constructor(
    private readonly services: Deps,
    readonly spec: ContactFlowSpec,
  ) {}

  private get records() {
    return contactFlows.in(this.services.store);
  }

  /** /register or /interaction/:uid/register */
  base(ctx: Context): string {
    return ctx.params.uid ? `/interaction/${ctx.params.uid}/${this.spec.kind}` : `/${this.spec.kind}`;
  }

  async save(flow: FlowRecord): Promise<void> {
    await this.records.save(flow.id, flow);
  }

  private async load(ctx: Context): Promise<FlowRecord> {
    const found = await this.inspect(ctx);
    if (found.used) throw new UserError(404, `${this.spec.kind}.flow_expired`, { start: this.base(ctx) });
    return found.flow;
  }

  /** The URL's flow of this kind and interaction while it lives, spent by its final step or not. */
  private async inspect(ctx: Context): Promise<{ flow: FlowRecord; used: boolean }> {
    const id = String(ctx.params.flow ?? '');
    const found = /^[A-Za-z0-9_-]{22}$/.test(id) ? await this.records.inspect(id) : undefined;
    const flow = found?.record;
    if (!flow || flow.kind !== this.spec.kind || (flow.interactionUid ?? undefined) !== (ctx.params.uid ?? undefined)) {
      throw new UserError(404, `${this.spec.kind}.flow_expired`, { start: this.base(ctx) });
    }
    return { flow, used: found.used };
  }

  private async interaction(ctx: Context): Promise<InteractionDetails | undefined> {
    return ctx.params.uid ? loadInteraction(this.services.provider, ctx) : undefined;
  }

  private showContact(ctx: Context, form: { contact?: string; error?: string; status?: number } = {}): void {
    const binding = ctx.params.uid ?? this.spec.kind;
    this.services.views.render(
      ctx,
      'contact',
      {
        title: `${this.spec.kind}.title`,
        kind: this.spec.kind,
        action: this.base(ctx),
        back: ctx.params.uid ? `/interaction/${ctx.params.uid}` : '/',
        csrf: ctx.state.csrf(binding),
        contact: form.contact ?? '',
        error: form.error,
        ...this.spec.contactPage?.(ctx),
      },
      form.status ?? 200,
    );
  }

  private showCode(ctx: Context, flow: FlowRecord, form: { error?: string; status?: number; resent?: boolean } = {}): void {
    this.services.views.render(
      ctx,
      'code',
      {
        title: `${this.spec.kind}.title`,
        kind: this.spec.kind,
        action: `${this.base(ctx)}/${flow.id}`,
        masked: maskContact(flow.contact),
        channel: flow.contact.kind,
        csrf: ctx.state.csrf(flow.id),
        error: form.error,
        resent: form.resent,
      },
      form.status ?? 200,
    );
  }

  /** Issues and sends a code; returns an error text when it could not. */
  private async sendCode(ctx: Context, contact: Contact): Promise<{ challengeId?: string; error?: string; status?: number }> {
    const message = await this.spec.message(ctx, contact);
    try {
      const sent = await this.services.codes.send({
        purpose: this.spec.kind,
        to: contact,
        ip: ctx.ip,
        message,
        answerable: message.answerable,
      });
      if (!sent.sent)
        return { error: this.services.views.t(ctx, 'code.send_limited', { minutes: Math.ceil(sent.retryAfter / 60) }), status: 429 };
      return { challengeId: sent.challengeId };
    } catch (err) {
      if (err instanceof DeliveryError) return { error: this.services.views.t(ctx, 'code.delivery_failed'), status: 503 };
      throw err;
    }
  }

  routes(): Router {
    const router = new Router();
    const { views, csrf } = this.services;
    const k = this.spec.kind;

    router.get(`/${k}`, async (ctx) => {
      await this.interaction(ctx);
      this.showContact(ctx);
    });

    router.post(`/${k}`, async (ctx) => {
      await this.interaction(ctx);
      csrf.verify(ctx, ctx.params.uid ?? k);
      const raw = parseForm(ctx, { contact: text(256) }).contact;
      const contact = parseContact(raw);
      if (!contact)
        return this.showContact(ctx, {
          contact: raw,
          error: views.t(ctx, raw.trim() ? 'contact.invalid' : 'contact.required'),
          status: 400,
        });
      const sent = await this.sendCode(ctx, contact);
      if (!sent.challengeId) return this.showContact(ctx, { contact: raw, error: sent.error, status: sent.status });
      const flow: FlowRecord = {
        id: randomBytes(16).toString('base64url'),
        kind: k,
        interactionUid: ctx.params.uid,
        contact,
        challengeId: sent.challengeId,
        verified: false,
        createdAt: new Date().toISOString(),
      };
      await this.save(flow);
      ctx.status = 303;
      ctx.redirect(`${this.base(ctx)}/${flow.id}`);
    });

    router.get(`/${k}/:flow`, async (ctx) => {
      await this.interaction(ctx);
      const flow = await this.load(ctx);
      if (flow.verified) return this.spec.showFinal(ctx, flow, {});
      this.showCode(ctx, flow, { resent: ctx.query.resent === '1' });
    });

    router.post(`/${k}/:flow`, async (ctx) => {
      const details = await this.interaction(ctx);
      const { flow, used } = await this.inspect(ctx);
      csrf.verify(ctx, flow.id);
      const code = parseForm(ctx, { code: text(32) }).code;
      // The final form sent again once its step was done (a double click, the back button): told
      // so, with the way on — not "the page is out of date", nor the final step judged again.
      if (used) {
        if (flow.verified && !code && (await this.spec.finished(flow))) return finalStepDone(this.services, ctx, flow);
        throw new UserError(404, `${k}.flow_expired`, { start: this.base(ctx) });
      }
      if (flow.verified) {
        // The code form sent again (a double click, a reload) after the code was taken: back to the
        // next step as it is, not the final form judged empty ("fill in this field" everywhere).
        // The final forms have no `code` field.
        if (code) {
          ctx.status = 303;
          ctx.redirect(`${this.base(ctx)}/${flow.id}`);
          return;
        }
        return this.spec.submitFinal(ctx, flow, details);
      }
      const outcome = await this.services.codes.verify({
        challengeId: flow.challengeId,
        purpose: k,
        recipient: flow.contact.value,
        code,
        ip: ctx.ip,
      });
      if (outcome === 'ok') {
        flow.verified = true;
        await this.save(flow);
        ctx.status = 303;
        ctx.redirect(`${this.base(ctx)}/${flow.id}`);
        return;
      }
      // The same code taken a moment ago by the request of the first click: go on with that one.
      if (outcome === 'used' && (await this.load(ctx)).verified) {
        ctx.status = 303;
        ctx.redirect(`${this.base(ctx)}/${flow.id}`);
        return;
      }
      const status = outcome === 'limited' ? 429 : outcome === 'wrong' ? 400 : 410;
      this.showCode(ctx, flow, { error: views.t(ctx, `code.${outcome}`), status });
    });

    router.post(`/${k}/:flow/resend`, async (ctx) => {
      await this.interaction(ctx);
      const flow = await this.load(ctx);
      csrf.verify(ctx, flow.id);
      if (flow.verified) throw new UserError(400, 'errors.bad_request');
      const sent = await this.sendCode(ctx, flow.contact);
      if (!sent.challengeId) return this.showCode(ctx, flow, { error: sent.error, status: sent.status });
      await this.save({ ...flow, challengeId: sent.challengeId });
      ctx.status = 303;
      ctx.redirect(`${this.base(ctx)}/${flow.id}?resent=1`);
    });

    return router;
  }
}
