/**
 * Refresh-token rotation that survives the honest retry. Every refresh consumes the presented
 * token and issues a successor; presenting a consumed token again is reuse and revokes the grant
 * (a stolen token). A client that retries after a timeout, or two tabs refreshing at once, would
 * then sign the citizen out of the service. Within `seconds` of the rotation, a second request with
 * the same token instead gets the same successor refresh token (and a fresh access token / ID
 * token for it): nothing new is minted, so there is still exactly one live refresh token.
 *
 * Mechanics (node-oidc-provider's refresh handler is left as it is):
 * - the winner's new refresh token is linked to the one it replaced (a `RefreshTokenSuccessor`
 *   row living `seconds`, bound to the grant so revocation removes it);
 * - a retry after the rotation: the consumed token reads as unconsumed while its successor is
 *   live and unused (at the token endpoint only, for that very token);
 * - a parallel loser: its lost consume waits briefly for the winner's link (refresh-grace via
 *   one-time.ts);
 * - either way the request's own consume and new token are no-ops, and the token response names
 *   the successor.
 * Outside the grace, or once the successor has itself been used, reuse revokes as before.
 */
import type { Middleware } from 'koa';
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import type { Store } from '../store.ts';

const LINK_MODEL = 'RefreshTokenSuccessor';
/** How long a parallel loser waits for the winner's successor (it is written right after the winner's consume). */
const JOIN_ATTEMPTS = 100;
const JOIN_STEP_MS = 30;

export class RefreshGrace {
  /** Token requests being answered with an existing successor: request → successor token. */
  private readonly successors = new WeakMap<object, string>();

  constructor(
    private readonly store: Store,
    private readonly seconds: number,
  ) {}

  /** The token request presenting `id` as its refresh_token, if this is one. */
  private tokenRequest(id: string): KoaContextWithOIDC | undefined {
    if (!this.seconds) return undefined;
    const ctx = Provider.ctx;
    if (!ctx || ctx.oidc.route !== 'token' || ctx.oidc.params?.refresh_token !== id) return undefined;
    return ctx;
  }

  /** The successor of `id` while it is live and unused. */
  private async liveSuccessor(id: string): Promise<string | undefined> {
    const link = await this.store.oidcAdapter(LINK_MODEL).find(id);
    const successor = typeof link?.successor === 'string' ? link.successor : undefined;
    if (!successor) return undefined;
    const token = await this.store.oidcAdapter('RefreshToken').find(successor);
    return token && !token.consumed ? successor : undefined;
  }

  /** Whether the current request is a retry being answered with an existing successor. */
  isRetry(): boolean {
    const ctx = Provider.ctx;
    return ctx !== undefined && this.successors.has(ctx);
  }

  /** A parallel request lost the consume of `id`: true when it may answer with the winner's successor. */
  async joinWinner(id: string): Promise<boolean> {
    const ctx = this.tokenRequest(id);
    if (!ctx) return false;
    for (let attempt = 0; attempt < JOIN_ATTEMPTS; attempt += 1) {
      const successor = await this.liveSuccessor(id);
      if (successor) {
        this.successors.set(ctx, successor);
        return true;
      }
      await new Promise((resolve) => setTimeout(resolve, JOIN_STEP_MS));
    }
    return false;
  }

  /** The RefreshToken adapter with the grace's find and upsert. */
  wrap(adapter: Adapter): Adapter {
    return {
      ...adapter,
      find: async (id) => {
        const payload = await adapter.find(id);
        if (!payload || typeof payload.consumed !== 'number') return payload;
        const ctx = this.tokenRequest(id);
        if (!ctx || Date.now() / 1000 - payload.consumed > this.seconds) return payload;
        let successor = await this.liveSuccessor(id);
        // Consumed a moment ago by a parallel request that is still writing the link: wait for it,
        // as a loser of the consume does (otherwise an honest retry would read as reuse and revoke).
        for (let attempt = 0; !successor && attempt < JOIN_ATTEMPTS && Date.now() / 1000 - payload.consumed < 2; attempt += 1) {
          await new Promise((resolve) => setTimeout(resolve, JOIN_STEP_MS));
          successor = await this.liveSuccessor(id);
        }
        if (!successor) return payload;
        this.successors.set(ctx, successor);
        const { consumed: _consumed, ...unconsumed } = payload;
        return unconsumed as AdapterPayload;
      },
      upsert: async (id, payload, expiresIn) => {
        const ctx = Provider.ctx;
        // A retry's own new refresh token is never stored: the response names the existing successor.
        if (ctx && this.successors.has(ctx)) return;
        const replaced = ctx?.oidc.entities.RotatedRefreshToken?.jti;
        // The token and its link are asked for together: the embedded store commits writes queued in
        // the same turn as one transaction (one WAL commit per refresh fewer). A reader that finds
        // the link before the token (MongoDB writes both at once) sees no live successor yet and
        // waits, as it waits for a link not yet written.
        await Promise.all([
          adapter.upsert(id, payload, expiresIn),
          this.seconds && replaced && replaced !== id
            ? this.store.oidcAdapter(LINK_MODEL).upsert(replaced, { successor: id, grantId: payload.grantId }, this.seconds)
            : undefined,
        ]);
      },
    };
  }

  /** Provider middleware: a retry's token response carries the existing successor. */
  readonly responseMiddleware: Middleware = (ctx, next) =>
    next().then(() => {
      const successor = this.successors.get(ctx);
      const body = ctx.body as Record<string, unknown> | undefined;
      if (successor && body && typeof body === 'object' && typeof body.refresh_token === 'string') body.refresh_token = successor;
    });
}
