/**
 * The admin listener (issue 14, `VKHOD_ADMIN_PORT`): when it is set, the operator API (`/admin`)
 * and pages (`/operator`) are served only on that listener — the public one answers 404 as for
 * any unknown page — and the admin listener serves nothing else but static files and health.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import { routedPath } from './routed-path.ts';

const ARRIVED_ON_ADMIN = Symbol('vkhod.admin-listener');

const ADMIN_PATHS = /^\/(admin|operator)(\/|$)/;
/** What the admin listener serves besides the admin paths: the operator pages' CSS/JS, health. */
const ALSO_ON_ADMIN = /^\/(static\/|healthz$|readyz$|favicon\.ico$)/;

/** Wraps the app's request handler for the admin listener's server. */
export function adminListenerHandler(handle: (req: IncomingMessage, res: ServerResponse) => unknown) {
  return (req: IncomingMessage, res: ServerResponse) => {
    (req as unknown as Record<symbol, boolean>)[ARRIVED_ON_ADMIN] = true;
    return handle(req, res);
  };
}

const arrivedOnAdmin = (ctx: Context) => (ctx.req as unknown as Record<symbol, boolean>)[ARRIVED_ON_ADMIN] === true;

/**
 * Koa middleware for the admin listener's side, placed before anything answers (the provider's
 * API included): anything but the admin paths, static files and health is 404 there.
 */
export function adminListenerOnly(enabled: boolean) {
  if (!enabled) return (_ctx: Context, next: Next) => next();
  return async (ctx: Context, next: Next) => {
    if (!arrivedOnAdmin(ctx) || ADMIN_PATHS.test(routedPath(ctx)) || ALSO_ON_ADMIN.test(routedPath(ctx))) return next();
    ctx.status = 404;
    ctx.body = 'Not Found';
  };
}

/**
 * Koa middleware for the public side, placed after the error pages (the empty 404 is drawn as the
 * page of any unknown address): the admin paths are not there. Off when no admin listener is set.
 */
export function noAdminOnPublicListener(enabled: boolean) {
  if (!enabled) return (_ctx: Context, next: Next) => next();
  return async (ctx: Context, next: Next) => {
    if (arrivedOnAdmin(ctx) || !ADMIN_PATHS.test(routedPath(ctx))) return next();
    ctx.status = 404;
  };
}
