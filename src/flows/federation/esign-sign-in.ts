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
import { sameName } from '../../accounts/external-identity.ts';
import { LinkError, snilsProvenFor, withCertificate } from '../../accounts/linked-identities.ts';
import type { CertificateIdentity } from '../../methods/esignature.ts';
import {
  certificateOf,
  esignError,
  esignProfile,
  esignVerification,
  sendChallenge,
  showEsignPage,
  signatureUpload,
  submittedSignature,
  type EsignPage,
} from '../../federation/esign-page.ts';
import type { Services } from '../../services.ts';
import type { Account } from '../../accounts/account.ts';
import { UserError } from '../../web/errors.ts';
import { FlowRecords } from '../../web/flow-records.ts';
import { showBankProblem } from '../../federation/round-trip.ts';
import { finishFederatedSignIn } from './federated-sign-in.ts';
import { linkedIdentities, notifyCitizen } from '../../federation/linking.ts';
import { backToSignIn, loadInteraction, type InteractionDetails } from '../interaction/context.ts';
import { offerRestore, type Deps as RestoreDeps } from '../sign-in/deletion-restore.ts';

/** What this module uses of the services (the composition root's bundle). */
/** What the restore offer needs (deletion-restore.ts), and this flow's own. */
export type Deps = RestoreDeps & Pick<Services, 'levels' | 'notices'>;

/** A certificate sign-in waiting for the password of the account its SNILS is typed into (esign-link.ts). */
export interface PendingEsignLink {
  accountId: string;
  identity: CertificateIdentity;
  amr: string[];
}

/** Keyed by the interaction uid. */
export const pendingEsignLinks = new FlowRecords<PendingEsignLink>('esignlink', 900);

/** The account, confirmed by the certificate (which is then remembered on it) when the names match. */
export async function confirmByCertificate(services: Deps, account: Account, identity: CertificateIdentity, ip: string): Promise<Account> {
  if (!identity.name || !sameName(account.name, identity.name)) return account;
  const profile = { snils: identity.snils, ...(identity.inn ? { inn: identity.inn } : {}) };
  return linkedIdentities(services).confirm(account, profile, esignVerification(identity), ip, (a) =>
    withCertificate(a, certificateOf(identity)),
  );
}

/** Holds the sign-in until the account's password is given (the SNILS in it is not proven to be its holder's). */
async function holdForPassword(
  services: Deps,
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
async function refuseLink(services: Deps, ctx: Context, details: InteractionDetails, err: unknown): Promise<void> {
  if (!(err instanceof LinkError)) throw err;
  const clientId = String(details.params.client_id);
  await services.audit.record({ type: 'esign.signin', ip: ctx.ip, outcome: 'failure', clientId, details: { reason: err.code } });
  showBankProblem(services, ctx, err.code, backToSignIn(services.views, ctx, details.uid), undefined, 'esign.errors');
}

/**
 * A certificate that finds no account of its own: a new account made from it (the citizen told),
 * then the sign-in finishes. Shared by the direct sign-in and "not my account" (esign-link.ts).
 */
export async function signInWithNewAccount(
  services: Deps,
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

export function esignSignInRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/esign' });
  const { provider, csrf, views } = services;
  const page = (uid: string, ctx: Context, form: { error?: string; status?: number } = {}): EsignPage => ({
    binding: `interaction:${uid}`,
    csrfBinding: uid,
    action: `/interaction/${uid}/esign`,
    download: (handle) => `/interaction/${uid}/esign/challenge/${handle}`,
    back: backToSignIn(views, ctx, uid),
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
    await sendChallenge(services, ctx, ctx.params.handle!, `interaction:${details.uid}`);
  });

  router.post('/', signatureUpload(), async (ctx) => {
    const details = await loginStep(ctx);
    csrf.verify(ctx, details.uid);
    const result = await submittedSignature(services, ctx, `interaction:${details.uid}`);
    if (!result.ok) return showEsignPage(services, ctx, page(details.uid, ctx, esignError(services, ctx, result)));
    const identity = result.identity;
    try {
      // An account deleted but still kept (its grace) whose verified SNILS this is: the sign-in offers
      // the restore (or says an operator restores it), as a password sign-in does.
      const held = await services.accounts.findByKeyOrPendingDeletion({ kind: 'snils', value: identity.snils });
      if (held?.status === 'deactivated' && snilsProvenFor(held, identity))
        return await offerRestore(services, ctx, details, held, true, { amr: result.amr, method: 'esignature' });
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
