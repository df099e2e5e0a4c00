/**
 * In production vkhod answers over HTTPS only (its issuer is an https:// URL, config/load.ts).
 * Its cookies — the provider's session and interaction, the CSRF secret, the cabinet's — are
 * Secure, and koa refuses to set a Secure cookie on a request it sees as plain HTTP: such a request
 * (a TLS proxy whose X-Forwarded-Proto vkhod does not trust, VKHOD_TRUST_PROXY; a port reached
 * without the proxy) failed with a 500 on the first page, and the provider's own cookies went out
 * without the Secure flag. Now it gets a 403 that says to open the https address, and the operator
 * a warning (at most once a minute) that names the setting.
 *
 * Not refused: health, readiness and the device authorization request (OPEN_OVER_HTTP). What
 * sets no cookie is served before this middleware (src/app.ts): the provider's machine
 * endpoints (token, JWKS, discovery, userinfo), the admin API (its own credentials; often on the
 * internal admin listener) and the ESIA profile's endpoints.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { UserError } from './errors.ts';
import { routedPath } from './routed-path.ts';

/**
 * Health and readiness (probed over plain HTTP from the host or the orchestrator), and the device
 * authorization request (RFC 8628 §3.1: the device itself calls it, no browser, no cookie), which
 * reaches the provider after the pages.
 */
const OPEN_OVER_HTTP = new Set(['/healthz', '/readyz', '/device/auth']);
const WARN_EVERY_MS = 60_000;

export function httpsOnly(logger: Logger) {
  let warnedAt = -Infinity;
  return function refusePlainHttp(ctx: Context, next: Next): Promise<void> {
    if (ctx.secure || OPEN_OVER_HTTP.has(routedPath(ctx))) return next();
    const now = Date.now();
    if (now - warnedAt >= WARN_EVERY_MS) {
      warnedAt = now;
      logger.warn(
        { path: ctx.path, forwardedProto: ctx.get('x-forwarded-proto') || undefined },
        'a request reached vkhod over plain HTTP and was refused (403): behind a TLS proxy, set VKHOD_TRUST_PROXY so its X-Forwarded-Proto is trusted',
      );
    }
    throw new UserError(403, 'errors.https_required');
  };
}
