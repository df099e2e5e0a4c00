/**
 * node-oidc-provider answers four things with a page of its own that posts a form by script: the
 * `form_post` response mode (the code to the relying party), the device flow's link with the code
 * in it (`/device?user_code=…`, what its QR code holds), a sign-out without a session, and the
 * resume of a sign-out. That page is English ("Your browser does not support JavaScript… Continue"),
 * unstyled and without `no-store`; its helper cannot be configured. This provider middleware draws
 * it again with vkhod's views (ProviderPages.autoSubmit): the same form — its action and fields
 * taken from the provider's page — in the citizen's language, with a button that works without
 * JavaScript.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

export interface AutoSubmitForm {
  action: string;
  fields: Array<{ name: string; value: string }>;
}

/** The inverse of node-oidc-provider's htmlSafe (lib/helpers/html_safe.js). */
const unescape = (text: string) =>
  text
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&amp;/g, '&');

/** The form of node-oidc-provider's auto-submitting page (lib/response_modes/form_post.js), or undefined for any other body. */
export function providerAutoSubmitForm(body: unknown): AutoSubmitForm | undefined {
  if (typeof body !== 'string' || !body.includes('<title>Submitting Callback</title>')) return undefined;
  const action = /<form method="post" action="([^"]*)">/.exec(body);
  if (!action) return undefined;
  const fields = [...body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/>/g)].map(([, name, value]) => ({
    name: name!,
    value: unescape(value!),
  }));
  // Every field read, or the page is left as it is: a markup this does not know (another provider
  // version) must not become a form that posts without the code.
  if (fields.length !== (body.match(/<input /g) ?? []).length) return undefined;
  return { action: unescape(action[1]!), fields };
}

export function autoSubmitPages(draw: (ctx: KoaContextWithOIDC, form: AutoSubmitForm) => void) {
  return async function redrawAutoSubmit(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    const form = ctx.type === 'text/html' ? providerAutoSubmitForm(ctx.body) : undefined;
    if (!form) return;
    const status = ctx.status;
    draw(ctx, form);
    ctx.status = status;
    // It carries a code, a form secret or a sign-out: never kept by a cache.
    ctx.set('cache-control', 'no-store');
  };
}
