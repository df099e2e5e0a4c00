/**
 * Sign-in with a qualified e-signature inside an interaction:
 *
 *   GET  /interaction/:uid/esign                     the challenge to sign, and the upload form
 *   GET  /interaction/:uid/esign/challenge/:handle   the challenge as a file (for signing tools)
 *   POST /interaction/:uid/esign                     a .sig file or pasted Base64 (multipart or url-encoded)
 *
 * The account is found by the certificate's SNILS and signed in (confirmed when the name matches)
 * when that SNILS is proven to be the account's (snilsProvenFor); a SNILS that was only typed into
 * the account first needs the account's password (esign-link.ts). No account with the SNILS: one is
 * made from the certificate at level `confirmed`. amr `sc` + `mfa`.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { sameName, type ExternalProfile } from '../accounts/external-identity.ts';
import { LinkError, snilsProvenFor, withCertificate, type ExternalVerification } from '../accounts/linked-identities.ts';
import { decodeSignature, MAX_SIGNATURE_BYTES, type CertificateIdentity, type EsignResult } from '../methods/esignature.ts';
import type { Services } from '../services.ts';
import type { Account } from '../store.ts';
import { UserError } from '../web/errors.ts';
import { FlowRecords } from '../web/flow-records.ts';
import { fileUpload, uploadedFile } from '../web/multipart.ts';
import { showBankProblem } from './bank-round-trip.ts';
import { finishFederatedSignIn, linkedIdentities, notifyCitizen } from './federated-sign-in.ts';
import { loadInteraction, type InteractionDetails } from './interaction-context.ts';
import { parseForm, raw } from '../web/form.ts';

/** A certificate sign-in waiting for the password of the account its SNILS is typed into (esign-link.ts). */
export interface PendingEsignLink {
  accountId: string;
  identity: CertificateIdentity;
  amr: string[];
}

/** Keyed by the interaction uid. */
export const pendingEsignLinks = new FlowRecords<PendingEsignLink>('esignlink', 900);

/** The upload middleware for e-signature forms. */
export const signatureUpload = () =>
  fileUpload({ field: 'signature_file', maxFile: MAX_SIGNATURE_BYTES, maxField: MAX_SIGNATURE_BYTES * 2 });

export function esignVerification(identity: CertificateIdentity): ExternalVerification {
  return {
    method: 'esignature',
    actor: `certificate:${identity.serialNumber}`,
    evidence: {
      type: 'qes',
      issuer: identity.issuer,
      serialNumber: identity.serialNumber,
      notAfter: identity.notAfter,
      keyAlgorithm: identity.keyAlgorithm,
      ...(identity.organization ? { organization: identity.organization } : {}),
      ...(identity.signTools ? { signTools: identity.signTools } : {}),
    },
    items: ['name', 'snils', ...(identity.inn ? (['inn'] as const) : [])],
  };
}

export function certificateOf(identity: CertificateIdentity) {
  // an employee's certificate signs the person in as a person; its organisation is kept for organisation accounts
  return {
    issuer: identity.issuer,
    serialNumber: identity.serialNumber,
    notAfter: identity.notAfter,
    ...(identity.organization ? { organization: identity.organization } : {}),
  };
}

export function esignProfile(identity: CertificateIdentity): ExternalProfile {
  return { snils: identity.snils, ...(identity.inn ? { inn: identity.inn } : {}), ...(identity.name ? { name: identity.name } : {}) };
}

const STATUS: Record<string, number> = {
  empty: 400,
  malformed: 400,
  no_certificate: 400,
  challenge: 400,
  gost_unsupported: 422,
  unsupported_algorithm: 422,
  no_snils: 422,
};

export interface EsignPage {
  /** what the challenge is bound to */
  binding: string;
  /** what the form's CSRF token is bound to */
  csrfBinding: string;
  action: string;
  download: (handle: string) => string;
  back: { href: string; label: string };
  /** The cabinet's page confirms the account with a signature: titled as a confirmation, not a sign-in. */
  confirm?: boolean;
  error?: string;
  status?: number;
}

/** The page with a fresh challenge (every showing issues a new one; each is good for one try). */
export async function showEsignPage(services: Services, ctx: Context, page: EsignPage): Promise<void> {
  const challenge = await services.esignature.challenge(page.binding);
  services.views.render(
    ctx,
    'esign',
    {
      title: page.confirm ? 'esign.confirm.title' : 'esign.title',
      heading: page.confirm ? 'esign.confirm.heading' : 'esign.heading',
      lead: page.confirm ? 'esign.confirm.lead' : 'esign.lead',
      csrf: ctx.state.csrf(page.csrfBinding),
      challenge: challenge.text,
      handle: challenge.handle,
      download: page.download(challenge.handle),
      action: page.action,
      back: page.back,
      minutes: Math.round(services.config.esign.challengeSeconds / 60),
      cadesApi: services.config.esign.cadesApi,
      error: page.error,
    },
    page.status ?? 200,
  );
}

/** Reads the submitted signature and checks it; a refusal is audited and counted against the address. */
export async function submittedSignature(services: Services, ctx: Context, binding: string, accountId?: string): Promise<EsignResult> {
  const blocked = await services.limits.peek('login-failures-ip', ctx.ip);
  if (blocked.blocked) throw new UserError(429, 'login.locked', { minutes: Math.ceil(blocked.retryAfter / 60) });
  const body = parseForm(ctx, { signature: raw(), handle: raw() });
  const file = uploadedFile(ctx);
  const text = typeof body.signature === 'string' ? body.signature : undefined;
  // Something that cannot be decoded is still something: "not a signature", not "nothing sent".
  const signature = decodeSignature({ file, text }) ?? (file || text?.trim() ? new Uint8Array() : undefined);
  const result = await services.esignature.verify(binding, String(body.handle ?? ''), signature);
  if (!result.ok) {
    await services.limits.hit('login-failures-ip', ctx.ip);
    await services.audit.record({ type: 'esign.verify', accountId, ip: ctx.ip, outcome: 'failure', details: { reason: result.reason } });
  }
  return result;
}

/** The account, confirmed by the certificate (which is then remembered on it) when the names match. */
export async function confirmByCertificate(
  services: Services,
  account: Account,
  identity: CertificateIdentity,
  ip: string,
): Promise<Account> {
  if (!identity.name || !sameName(account.name, identity.name)) return account;
  const profile = { snils: identity.snils, ...(identity.inn ? { inn: identity.inn } : {}) };
  return linkedIdentities(services).confirm(account, profile, esignVerification(identity), ip, (a) =>
    withCertificate(a, certificateOf(identity)),
  );
}

/** Holds the sign-in until the account's password is given (the SNILS in it is not proven to be its holder's). */
async function holdForPassword(
  services: Services,
  ctx: Context,
  details: InteractionDetails,
  account: Account,
  identity: CertificateIdentity,
  amr: string[],
): Promise<void> {
  const pending: PendingEsignLink = { accountId: account.id, identity, amr };
  await pendingEsignLinks.in(services.store).save(details.uid, pending);
  await services.audit.record({
    type: 'esign.password_required',
    accountId: account.id,
    ip: ctx.ip,
    clientId: String(details.params.client_id),
    details: { reason: 'snils_not_verified', serialNumber: identity.serialNumber },
  });
  ctx.status = 303;
  ctx.redirect(`/interaction/${details.uid}/esign-link`);
}

/** A certificate sign-in the account rules refused (LinkError): audited, and its page; anything else is thrown on. */
async function refuseLink(services: Services, ctx: Context, details: InteractionDetails, err: unknown): Promise<void> {
  if (!(err instanceof LinkError)) throw err;
  const clientId = String(details.params.client_id);
  await services.audit.record({ type: 'esign.signin', ip: ctx.ip, outcome: 'failure', clientId, details: { reason: err.code } });
  const back = { href: `/interaction/${details.uid}`, label: services.views.t(ctx, 'bank.back_to_login') };
  showBankProblem(services, ctx, err.code, back, undefined, 'esign.errors');
}

/**
 * A certificate that finds no account of its own: a new account made from it (the citizen told),
 * then the sign-in finishes. Shared by the direct sign-in and "not my account" (esign-link.ts).
 */
export async function signInWithNewAccount(
  services: Services,
  ctx: Context,
  details: InteractionDetails,
  identity: CertificateIdentity,
  amr: string[],
): Promise<void> {
  try {
    const account = await linkedIdentities(services).create({
      profile: esignProfile(identity),
      via: 'esignature',
      certificate: certificateOf(identity),
      verification: esignVerification(identity),
      ip: ctx.ip,
      clientId: String(details.params.client_id),
    });
    await notifyCitizen(services, account, 'federation.messages.created_by_esign');
    await finishFederatedSignIn(services, ctx, details, account, amr, 'esignature');
  } catch (err) {
    await refuseLink(services, ctx, details, err);
  }
}

export function esignError(
  services: Services,
  ctx: Context,
  result: Extract<EsignResult, { ok: false }>,
): { error: string; status: number } {
  return { error: services.views.t(ctx, `esign.errors.${result.reason}`), status: STATUS[result.reason] ?? 403 };
}

export function esignSignInRoutes(services: Services): Router {
  const router = new Router({ prefix: '/esign' });
  const { provider, csrf, views } = services;
  const page = (uid: string, ctx: Context, form: { error?: string; status?: number } = {}): EsignPage => ({
    binding: `interaction:${uid}`,
    csrfBinding: uid,
    action: `/interaction/${uid}/esign`,
    download: (handle) => `/interaction/${uid}/esign/challenge/${handle}`,
    back: { href: `/interaction/${uid}`, label: views.t(ctx, 'bank.back_to_login') },
    ...form,
  });

  async function loginStep(ctx: Context) {
    const details = await loadInteraction(provider, ctx);
    if (details.prompt.name !== 'login') throw new UserError(400, 'errors.interaction_step');
    if (!services.esignature.enabled) throw new UserError(404, 'esign.errors.not_configured');
    return details;
  }

  router.get('/', async (ctx) => {
    const details = await loginStep(ctx);
    await showEsignPage(services, ctx, page(details.uid, ctx));
  });

  router.get('/challenge/:handle', async (ctx) => {
    const details = await loginStep(ctx);
    const text = await services.esignature.challengeText(ctx.params.handle!, `interaction:${details.uid}`);
    if (!text) throw new UserError(404, 'esign.errors.challenge');
    ctx.type = 'text/plain; charset=utf-8';
    ctx.set('content-disposition', 'attachment; filename="vkhod-challenge.txt"');
    ctx.set('cache-control', 'no-store');
    ctx.body = text;
  });

  router.post('/', signatureUpload(), async (ctx) => {
    const details = await loginStep(ctx);
    csrf.verify(ctx, details.uid);
    const result = await submittedSignature(services, ctx, `interaction:${details.uid}`);
    if (!result.ok) return showEsignPage(services, ctx, page(details.uid, ctx, esignError(services, ctx, result)));
    const identity = result.identity;
    try {
      // The account whose SNILS is verified; failing that, the one account that only typed it in.
      let account = await services.accounts.findByKey({ kind: 'snils', value: identity.snils });
      if (!account) {
        const typed = await services.accounts.holdersOf({ kind: 'snils', value: identity.snils });
        if (typed.length === 1) account = typed[0];
      }
      if (!account) return await signInWithNewAccount(services, ctx, details, identity, result.amr);
      // Whoever typed this SNILS into an account may not be its holder: only a SNILS proven to be
      // the account's lets the certificate in on its own, otherwise the account's password first.
      if (!snilsProvenFor(account, identity)) return await holdForPassword(services, ctx, details, account, identity, result.amr);
      // The certificate vouches for the name and SNILS it carries: confirmed when they are the account's.
      account = await confirmByCertificate(services, account, identity, ctx.ip);
      await finishFederatedSignIn(services, ctx, details, account, result.amr, 'esignature');
    } catch (err) {
      await refuseLink(services, ctx, details, err);
    }
  });

  return router;
}
