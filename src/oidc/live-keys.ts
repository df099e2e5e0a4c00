/**
 * The signing keys a running process uses, kept in step with the store (issue 14): every
 * `refreshSeconds` (checked on the provider's own requests — JWKS, token, authorization — so an idle
 * process costs nothing) the set is read again and the keys' states derived for the current time
 * (keys.ts). When the published set or the signing keys changed — a rotation, a withdrawal made by
 * any process, or a pending key whose activation has come — the provider's keystore is rebuilt.
 *
 * node-oidc-provider builds its keystore once, in its constructor, with no public way to change it;
 * the rebuild runs that same initialisation again (`initialize_keystore.js`, the code the
 * constructor calls), which replaces the keystore and the published JWKS together. The rotation
 * tests (test/integration/admin.keys.test.ts) fail if a node-oidc-provider upgrade changes this.
 */
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import { publishedJwks, type SigningKeys } from './keys.ts';

const fingerprint = (jwks: { keys: JWK[] }) => jwks.keys.map((k) => k.kid).join(' ');

export class LiveSigningKeys {
  private jwks: { keys: JWK[] } = { keys: [] };
  private checkedAt = 0;
  private refreshing?: Promise<void>;
  private provider?: Provider;

  constructor(
    readonly keys: SigningKeys,
    private readonly retentionSeconds: number,
    private readonly refreshMs: number,
    private readonly logger?: Logger,
  ) {}

  /** The JWKS to build the provider with (keys are generated on the very first start). */
  async initial(): Promise<{ keys: JWK[] }> {
    this.jwks = await this.keys.load(this.retentionSeconds);
    this.checkedAt = Date.now();
    return this.jwks;
  }

  /** The provider whose keystore follows the store. */
  attach(provider: Provider): void {
    this.provider = provider;
  }

  /** Re-reads the keys when the last read is older than `refreshMs` (one read at a time). */
  refreshIfStale(): Promise<void> {
    if (Date.now() - this.checkedAt < this.refreshMs) return Promise.resolve();
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Reads the keys now (after a change made by this process: it signs with the result at once). */
  async refresh(): Promise<void> {
    const set = await this.keys.ensure();
    this.checkedAt = Date.now();
    const next = publishedJwks(set, Date.now(), this.retentionSeconds);
    if (fingerprint(next) === fingerprint(this.jwks)) return;
    if (this.provider) initializeKeystore.call(this.provider, next);
    this.logger?.info({ keys: next.keys.map((k) => k.kid) }, 'signing keys changed');
    this.jwks = next;
  }

  /**
   * Provider middleware: the keys are fresh before any endpoint publishes or signs with them. While
   * they are (nearly every request), the request goes straight on: no promise, no turn of the loop.
   */
  middleware(): Middleware {
    const failed = (err: Error) =>
      this.logger?.error({ err: { message: err.message } }, 'reading the signing keys failed; the previous ones stay in use');
    return (_ctx, next) => {
      if (Date.now() - this.checkedAt < this.refreshMs) return next();
      return this.refreshIfStale()
        .catch(failed)
        .then(() => next());
    };
  }
}
