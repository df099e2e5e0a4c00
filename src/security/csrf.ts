/**
 * CSRF protection for every vkhod form (DESIGN §6): a random per-browser secret in an httpOnly
 * cookie, and in each form a token = HMAC(secret, binding), where the binding is the interaction
 * or flow the form belongs to. A token from another browser, or for another flow, is refused.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import { UserError } from '../web/errors.ts';
import type { SecretBox } from './secret-box.ts';

const COOKIE = 'vkhod.csrf';

export class Csrf {
  constructor(
    private readonly box: SecretBox,
    private readonly secureCookies: boolean,
  ) {}

  private secret(ctx: Context): string {
    let secret = ctx.cookies.get(COOKIE);
    if (!secret || !/^[A-Za-z0-9_-]{43}$/.test(secret)) {
      secret = randomBytes(32).toString('base64url');
      ctx.cookies.set(COOKIE, secret, { httpOnly: true, sameSite: 'lax', secure: this.secureCookies, overwrite: true });
      // Reads later in this request see the new value.
      ctx.request.headers.cookie = `${ctx.request.headers.cookie ? `${ctx.request.headers.cookie}; ` : ''}${COOKIE}=${secret}`;
    }
    return secret;
  }

  /** Makes `ctx.state.csrf(binding)` available to pages. */
  middleware() {
    return async (ctx: Context, next: Next) => {
      ctx.state.csrf = (binding: string) => this.box.mac('csrf', `${this.secret(ctx)}|${binding}`);
      await next();
    };
  }

  /** Throws a 403 the citizen can act on unless the POSTed `_csrf` matches this browser and binding. */
  verify(ctx: Context, binding: string): void {
    const secret = ctx.cookies.get(COOKIE);
    const token = (ctx.request.body as Record<string, unknown> | undefined)?._csrf;
    if (!secret || typeof token !== 'string' || !this.box.macEquals('csrf', `${secret}|${binding}`, token)) {
      throw new UserError(403, 'errors.csrf');
    }
  }
}
