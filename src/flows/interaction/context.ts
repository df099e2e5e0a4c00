/**
 * Reading and finishing node-oidc-provider interactions from a koa route: the details, the
 * relying party's name, and the redirect back to the provider with a result.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { UserError } from '../../web/errors.ts';
import type { PageState } from '../../web/views.ts';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/** The link back to the interaction's sign-in page, on the bank's and the e-signature's problem pages. */
export function backToSignIn(views: { t(ctx: Context, key: string): string }, ctx: Context, uid: string) {
  return { href: `/interaction/${uid}`, label: views.t(ctx, 'bank.back_to_login') };
}

/** The interaction of this browser; a 400 page when it expired or belongs to another browser. */
export async function loadInteraction(provider: Provider, ctx: Context): Promise<InteractionDetails> {
  let details: InteractionDetails;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch {
    throw new UserError(400, 'errors.interaction_expired');
  }
  if (ctx.params.uid && details.uid !== ctx.params.uid) throw new UserError(400, 'errors.interaction_expired');
  // The pages of this interaction speak the language the relying party asked for (DESIGN §7).
  (ctx.state as PageState).uiLocales = details.params.ui_locales;
  return details;
}

/** Sends the browser back to the provider with the result (303 so a POST becomes a GET). */
export async function finishInteraction(provider: Provider, ctx: Context, result: InteractionResults): Promise<void> {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

export async function clientOf(provider: Provider, details: InteractionDetails) {
  const client = await provider.Client.find(String(details.params.client_id));
  return { clientId: client?.clientId, clientName: client?.clientName ?? client?.clientId ?? '' };
}
