/**
 * Recovery without the phone or e-mail, with a qualified e-signature (`/recover/esign`): the
 * citizen signs a challenge; a certificate whose SNILS is the verified SNILS of an account (the
 * same rule as the e-signature sign-in, esign-sign-in.ts) lets them set a new password. Every
 * session and token of the account ends; the e-signature is two factors (amr `sc`, `mfa`), so the
 * citizen then lands signed in, in the cabinet, without a second factor asked (to fix their
 * contacts and factors). Reuses the e-signature page and checks of the sign-in — no second copy.
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { snilsProvenFor } from '../../accounts/linked-identities.ts';
import type { Services } from '../../services.ts';
import { UserError } from '../../web/errors.ts';
import { FlowRecords } from '../../web/flow-records.ts';
import {
  esignError,
  sendChallenge,
  showEsignPage,
  signatureUpload,
  submittedSignature,
  type EsignPage,
} from '../../federation/esign-page.ts';
import { recoveredPasswordRoutes } from './recovered-password.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accounts' | 'audit' | 'bank' | 'config' | 'csrf' | 'esignature' | 'limits' | 'notifier' | 'provider' | 'store' | 'views'
>;

const BINDING = 'recover-esign';

interface EsignRecovery {
  accountId: string;
  amr: string[];
}

/** A signature accepted, waiting for the new password (single use). */
export const esignRecoveries = new FlowRecords<EsignRecovery>('recover-esign', 900);

export function recoveryEsignRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/recover/esign' });
  const { views, csrf } = services;
  const records = () => esignRecoveries.in(services.store);

  /**
   * The challenge belongs to the browser that asked for it (as the sign-in's belongs to its
   * interaction): its binding is derived from this browser's CSRF secret, so a signature over it
   * redeems nothing from another browser.
   */
  const challengeBinding = (ctx: Context) => `${BINDING}:${(ctx.state.csrf as (binding: string) => string)(BINDING)}`;

  const page = (ctx: Context, form: { error?: string; status?: number } = {}): EsignPage => ({
    binding: challengeBinding(ctx),
    csrfBinding: BINDING,
    action: '/recover/esign',
    download: (handle) => `/recover/esign/challenge/${handle}`,
    back: { href: '/recover', label: views.t(ctx, 'recover.ways.back') },
    ...form,
  });

  const enabled = () => {
    if (!services.esignature.enabled) throw new UserError(404, 'esign.errors.not_configured');
  };

  router.get('/', async (ctx) => {
    enabled();
    await showEsignPage(services, ctx, page(ctx));
  });

  router.get('/challenge/:handle', async (ctx) => {
    enabled();
    await sendChallenge(services, ctx, ctx.params.handle!, challengeBinding(ctx));
  });

  router.post('/', signatureUpload(), async (ctx) => {
    enabled();
    csrf.verify(ctx, BINDING);
    const result = await submittedSignature(services, ctx, challengeBinding(ctx));
    if (!result.ok) return showEsignPage(services, ctx, page(ctx, esignError(services, ctx, result)));
    const identity = result.identity;
    // Only a SNILS verified on the account (or proven by this very certificate before) recovers it.
    const account = await services.accounts.findByKey({ kind: 'snils', value: identity.snils });
    if (!account || !snilsProvenFor(account, identity)) {
      await services.audit.record({
        type: 'account.password_recover',
        ip: ctx.ip,
        outcome: 'failure',
        details: { via: 'esignature', reason: 'no_account', serialNumber: identity.serialNumber },
      });
      return showEsignPage(services, ctx, page(ctx, { error: views.t(ctx, 'recover.ways.esign_no_account'), status: 404 }));
    }
    const id = randomBytes(16).toString('base64url');
    const record: EsignRecovery = { accountId: account.id, amr: result.amr };
    await records().save(id, record);
    ctx.status = 303;
    ctx.redirect(`/recover/esign/${id}`);
  });

  // The new password: a signature is two factors, so the cabinet's sign-in asks no second factor.
  recoveredPasswordRoutes(services, router, {
    path: '/:id',
    action: (id) => `/recover/esign/${id}`,
    records: esignRecoveries,
    via: () => ({ via: 'esignature' }),
    amr: (record) => record.amr,
  });

  return router;
}
