/**
 * The e-signature page and its checks, shared by the sign-in (flows/federation/esign-sign-in.ts),
 * the recovery (flows/contact/recovery-esign.ts) and the cabinet's confirmation
 * (cabinet/federation.ts): the challenge page, the submitted signature, what a certificate proves
 * (its verification evidence, the certificate remembered on the account, the profile it carries).
 */
import type { Context } from 'koa';
import type { ExternalProfile } from '../accounts/external-identity.ts';
import type { ExternalVerification } from '../accounts/linked-identities.ts';
import { decodeSignature, MAX_SIGNATURE_BYTES, type CertificateIdentity, type EsignResult } from '../methods/esignature.ts';
import type { Services } from '../services.ts';
import { UserError } from '../web/errors.ts';
import { parseForm, raw } from '../web/form.ts';
import { fileUpload, uploadedFile } from '../web/multipart.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'audit' | 'config' | 'esignature' | 'limits' | 'views'>;

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
export async function showEsignPage(services: Deps, ctx: Context, page: EsignPage): Promise<void> {
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

/**
 * The challenge as a text file, for a signing tool outside the browser: 404 when the handle is
 * unknown, used, expired or another flow's. Never cached: it is good for one signature.
 */
export async function sendChallenge(services: Deps, ctx: Context, handle: string, binding: string): Promise<void> {
  const text = await services.esignature.challengeText(handle, binding);
  if (!text) throw new UserError(404, 'esign.errors.challenge');
  ctx.type = 'text/plain; charset=utf-8';
  ctx.set('content-disposition', 'attachment; filename="vkhod-challenge.txt"');
  ctx.set('cache-control', 'no-store');
  ctx.body = text;
}

/** Reads the submitted signature and checks it; a refusal is audited and counted against the address. */
export async function submittedSignature(services: Deps, ctx: Context, binding: string, accountId?: string): Promise<EsignResult> {
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

export function esignError(services: Deps, ctx: Context, result: Extract<EsignResult, { ok: false }>): { error: string; status: number } {
  return { error: services.views.t(ctx, `esign.errors.${result.reason}`), status: STATUS[result.reason] ?? 403 };
}
