/**
 * Bad input gets a 4xx page a person can act on; anything unexpected a 500 page without
 * details. Nothing reaches the browser as a stack trace.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../store.ts';
import type { Views } from './views.ts';

/** An error the citizen can do something about: a status and a locale key for the message. */
export class UserError extends Error {
  constructor(
    readonly status: number,
    readonly messageKey: string,
    readonly params: Record<string, unknown> = {},
  ) {
    super(messageKey);
    this.name = 'UserError';
  }
}

const STATUS_KEYS: Record<number, string> = {
  400: 'errors.bad_request',
  403: 'errors.forbidden',
  404: 'errors.not_found',
  405: 'errors.bad_request',
  413: 'errors.too_large',
  415: 'errors.bad_request',
  429: 'errors.too_many',
};

export function errorPages(views: Views, logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        views.render(ctx, 'error', { title: 'errors.title', message: views.t(ctx, 'errors.not_found') }, 404);
      }
    } catch (err) {
      const e = err as Error & { status?: number; expose?: boolean };
      let status = 500;
      let message: string;
      if (e instanceof StoreUnavailableError) {
        // The store cannot write now (lock held elsewhere, disk full): wait and retry, not a 500.
        status = 503;
        ctx.set('retry-after', String(e.retryAfter));
        message = views.t(ctx, 'errors.unavailable');
      } else if (e instanceof UserError) {
        status = e.status;
        message = views.t(ctx, e.messageKey, e.params);
      } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
        status = e.status;
        message = views.t(ctx, STATUS_KEYS[status] ?? 'errors.bad_request');
      } else {
        logger.error({ err: e, path: ctx.path, method: ctx.method }, 'unhandled error');
        message = views.t(ctx, 'errors.internal');
      }
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.status = status;
        ctx.body = { error: status >= 500 ? 'server_error' : 'invalid_request', error_description: message };
        return;
      }
      views.render(ctx, 'error', { title: 'errors.title', message, status }, status);
    }
  };
}

/**
 * Every 503 carries `Retry-After`, also those node-oidc-provider answers itself (a token request
 * when the store cannot write: it renders StoreUnavailableError as `temporarily_unavailable`).
 */
export function retryAfterOn503() {
  return async function retryAfter(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (err instanceof StoreUnavailableError) ctx.set('retry-after', String(err.retryAfter));
      throw err;
    }
    if (ctx.status === 503 && !ctx.response.get('retry-after')) ctx.set('retry-after', '1');
  };
}
