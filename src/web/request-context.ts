/**
 * The request id (issue 14): taken from `X-Request-Id` when a trusted proxy sent a well-formed one,
 * generated otherwise; sent back in the response header and put on every log line written while
 * the request is served (src/logger.ts reads it from here through AsyncLocalStorage).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

const context = new AsyncLocalStorage<{ requestId: string }>();

/** Letters, digits and `._:-`, at most 128: a UUID, a trace id, a load balancer's id. */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of the request being served here, if any. */
export function currentRequestId(): string | undefined {
  return context.getStore()?.requestId;
}

/** Koa middleware (outermost). `fromTrustedProxy(peer)`: whether the socket's peer is a proxy we trust. */
export function requestIds(fromTrustedProxy: (peer: string) => boolean) {
  return (ctx: Context, next: Next) => {
    const given = ctx.get('x-request-id');
    const requestId = given && WELL_FORMED.test(given) && fromTrustedProxy(ctx.req.socket.remoteAddress ?? '') ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('x-request-id', requestId);
    // koa's own error answer drops the headers set so far; keep the id on it.
    const keepId = (err: unknown) => {
      if (err && typeof err === 'object') {
        const e = err as { headers?: Record<string, string> };
        e.headers = { ...e.headers, 'x-request-id': requestId };
      }
      throw err;
    };
    return context.run({ requestId }, () => next().catch(keepId));
  };
}
