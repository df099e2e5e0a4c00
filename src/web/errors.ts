/**
 * Bad input gets a 4xx page a person can act on; anything unexpected a 500 page without
 * details. Nothing reaches the browser as a stack trace.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../store.ts';
import { isMachineEndpoint } from './machine-endpoints.ts';
import type { Views } from './views.ts';
import { routedPath } from './routed-path.ts';

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
  405: 'errors.method_not_allowed',
  413: 'errors.too_large',
  415: 'errors.bad_request',
  429: 'errors.too_many',
  501: 'errors.method_not_allowed',
};

/** The locale key of the generic message for an HTTP status. */
export const statusMessageKey = (status: number): string => STATUS_KEYS[status] ?? 'errors.bad_request';

/**
 * Answers with an error: JSON on an endpoint only code calls (src/web/machine-endpoints.ts) and to
 * a client that asks for JSON, the error page otherwise.
 */
export function answerError(views: Views, ctx: Context, status: number, message: string): void {
  if (isMachineEndpoint(routedPath(ctx)) || ctx.accepts('html', 'json') === 'json') {
    ctx.status = status;
    ctx.body = { error: status >= 500 && status !== 501 ? 'server_error' : 'invalid_request', error_description: message };
    return;
  }
  views.render(ctx, 'error', { title: 'errors.title', message, status }, status);
}

export function errorPages(views: Views, logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        views.render(ctx, 'error', { title: 'errors.title', message: views.t(ctx, 'errors.not_found') }, 404);
      } else if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
        answerError(views, ctx, ctx.status, views.t(ctx, statusMessageKey(ctx.status)));
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
      } else if (typeof e.status === 'number' && ((e.status >= 400 && e.status < 500) || e.status === 501)) {
        // 501: a method the router does not implement at all — the sender's choice, not a fault.
        status = e.status;
        message = views.t(ctx, statusMessageKey(status));
      } else {
        logger.error({ err: e, path: ctx.path, method: ctx.method }, 'unhandled error');
        message = views.t(ctx, 'errors.internal');
      }
      answerError(views, ctx, status, message);
    }
  };
}

/**
 * Every 503 carries `Retry-After`, also those node-oidc-provider answers itself (a token request
 * when the store cannot write: it renders StoreUnavailableError as `temporarily_unavailable`).
 */
export function retryAfterOn503() {
  return function retryAfter(ctx: Context, next: Next): Promise<void> {
    return next().then(
      () => {
        if (ctx.status === 503 && !ctx.response.get('retry-after')) ctx.set('retry-after', '1');
      },
      (err: unknown) => {
        if (err instanceof StoreUnavailableError) ctx.set('retry-after', String(err.retryAfter));
        throw err;
      },
    );
  };
}
