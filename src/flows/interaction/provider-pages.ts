/**
 * The pages node-oidc-provider shows itself (errors, logout confirmation, logged out), drawn
 * with vkhod's views and texts.
 */
import type { Context } from 'koa';
import type { ProviderPages } from '../../oidc/provider.ts';
import type { Views } from '../../web/views.ts';
import { devicePages } from './device-pages.ts';

const KNOWN_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_redirect_uri',
  'unauthorized_client',
  'access_denied',
  'login_required',
  'invalid_scope',
  'unsupported_response_type',
  'server_error',
  'invalid_grant',
  'consent_required',
  'interaction_required',
  'request_not_supported',
  'invalid_request_object',
  'invalid_target',
  'unmet_authentication_requirements',
  'expired_token',
]);

export function providerPages(views: Views): ProviderPages {
  return {
    ...devicePages(views),
    async error(ctx, out) {
      const c = ctx as unknown as Context;
      const code = String(out.error ?? 'server_error');
      // A sign-out request (end_session) told as one, not as "a request to sign in".
      const signOut = ctx.oidc?.route === 'end_session' || ctx.oidc?.route === 'end_session_confirm';
      const known = KNOWN_ERRORS.has(code) ? code : 'other';
      const message = views.t(c, signOut && known === 'invalid_request' ? 'oidc_errors.invalid_logout_request' : `oidc_errors.${known}`);
      views.render(
        c,
        'error',
        { title: 'errors.title', message, code, description: out.error_description },
        ctx.status && ctx.status >= 400 ? ctx.status : 400,
      );
    },
    async logout(ctx, form) {
      const c = ctx as unknown as Context;
      const client = ctx.oidc.client;
      views.render(c, 'logout', { title: 'logout.title', form, clientName: client?.clientName ?? client?.clientId });
      c.status = 200;
    },
    async loggedOut(ctx) {
      const c = ctx as unknown as Context;
      views.render(c, 'done', { title: 'logout.done_title', message: views.t(c, 'logout.done') });
    },
    autoSubmit(ctx, form) {
      // No language switch: it would open this address again, and what it posts is used once.
      views.render(ctx as unknown as Context, 'auto-submit', {
        title: 'auto_submit.title',
        action: form.action,
        fields: form.fields,
        noLanguageSwitch: true,
      });
    },
  };
}
