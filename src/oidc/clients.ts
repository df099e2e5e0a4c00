/**
 * Relying parties as every process sees them (issue 14): kept in the store, read through a short
 * per-process cache (`VKHOD_CLIENT_CACHE_SECONDS`), and handed to node-oidc-provider through its
 * adapter for the `Client` model — its documented way to load clients dynamically: every client id
 * that is not a static client is looked up there, and a new `Client` is built whenever the stored
 * properties change. A client created, changed, disabled or deleted through one process is thus
 * seen by every other within the cache time, without a restart. vkhod's own clients (the cabinet,
 * the demo) stay static.
 *
 * Secrets: node-oidc-provider compares `client_secret_basic`/`_post` secrets with
 * `Client#compareClientSecret` (awaited), the hook its maintainer points to for hashed secrets
 * (panva/node-oidc-provider#631). `installSecretCheck` replaces it for stored clients with a check
 * against the stored hashes (the current secret, and the replaced one during its overlap); the
 * provider itself is only given a random stand-in that matches nothing.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { ClientRepository, StoredClient } from '../store.ts';
import { ClientSecretHasher } from './client-secrets.ts';

/** At most this many client ids are remembered per process (unknown ids included). */
const MAX_CACHED = 1000;

/**
 * What node-oidc-provider holds as `client_secret` of a stored client: it requires one for the
 * secret methods, but never sees the real secret. Random per process; HS* algorithms (the only
 * other use of a client secret) are not enabled.
 */
const STAND_IN_SECRET = randomBytes(32).toString('base64url');

export class ClientRegistry {
  private readonly cache = new Map<string, { at: number; client: StoredClient | undefined }>();
  /**
   * What node-oidc-provider got for a cached client, built once per read of it from the store (not
   * per request): the cache hands out the same StoredClient object until it reads the client again.
   */
  private readonly providerPayloads = new WeakMap<StoredClient, Record<string, unknown>>();
  /**
   * The secret last accepted for a cached client, and until when (the earliest expiry of its live
   * secrets): a client presents the same secret at every token request, and checking it against the
   * hashes costs an HMAC each time. Gone with the cached object, so a changed client is checked anew.
   */
  private readonly acceptedSecrets = new WeakMap<StoredClient, { secret: Buffer; until: number }>();

  constructor(
    readonly repository: ClientRepository,
    readonly hasher: ClientSecretHasher,
    private readonly cacheMs: number,
  ) {}

  /** The stored client (any status) as this process sees it: at most `cacheMs` old. */
  async lookup(clientId: string): Promise<StoredClient | undefined> {
    const hit = this.cache.get(clientId);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.client;
    const client = await this.repository.find(clientId);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(clientId, { at: Date.now(), client });
    return client;
  }

  /** After a change made by this process: it sees its own change at once. */
  forget(clientId: string): void {
    this.cache.delete(clientId);
  }

  /** The metadata node-oidc-provider gets for an active client (never the secret); undefined otherwise. */
  async providerMetadata(clientId: string): Promise<Record<string, unknown> | undefined> {
    const client = await this.lookup(clientId);
    if (!client || client.status !== 'active') return undefined;
    return ClientRegistry.metadataOf(client);
  }

  private static metadataOf(client: StoredClient): Record<string, unknown> {
    return { ...client.metadata, client_id: client.clientId, ...(client.secrets.length ? { client_secret: STAND_IN_SECRET } : {}) };
  }

  /**
   * node-oidc-provider's adapter for the `Client` model. `toProvider` shapes the stored registration
   * the way static clients are shaped (default scope, response types). Dynamic registration is off:
   * nothing writes through it.
   */
  providerAdapter(toProvider: (metadata: Record<string, unknown>) => Record<string, unknown>): Adapter {
    const refuse = async () => {
      throw new Error('clients are managed through the admin API and the CLI');
    };
    return {
      find: async (id: string) => {
        const client = await this.lookup(id);
        if (!client || client.status !== 'active') return undefined;
        let payload = this.providerPayloads.get(client);
        if (!payload) this.providerPayloads.set(client, (payload = toProvider(ClientRegistry.metadataOf(client))));
        return payload as AdapterPayload;
      },
      findByUid: async () => undefined,
      findByUserCode: async () => undefined,
      upsert: refuse,
      consume: refuse,
      destroy: refuse,
      revokeByGrantId: refuse,
    };
  }

  /** The cached read of a client while it is fresh (no store read, no await). */
  private fresh(clientId: string): StoredClient | undefined {
    const hit = this.cache.get(clientId);
    return hit && Date.now() - hit.at < this.cacheMs ? hit.client : undefined;
  }

  /**
   * node-oidc-provider's `Client.find` serialises and hashes a dynamic client's metadata (JSON,
   * SHA-256) at every call to find the `Client` it built for them: once per token or userinfo
   * request. The `Client` found for a cached read is kept with that read (WeakMap) and handed out
   * while the cache hands out the same read; a new read (a change, or the cache time passing) goes
   * through node-oidc-provider's own find again.
   */
  installClientReuse(provider: Provider): void {
    const Client = provider.Client as unknown as { find(id: unknown): Promise<unknown> };
    const find = Client.find.bind(Client);
    const built = new WeakMap<StoredClient, unknown>();
    Client.find = async (id: unknown) => {
      const read = typeof id === 'string' ? this.fresh(id) : undefined;
      const reused = read && built.get(read);
      if (reused) return reused;
      const client = await find(id);
      // Only when the Client was certainly built from this very read (the cache did not move meanwhile).
      if (client && read && read.status === 'active' && this.fresh(read.clientId) === read) built.set(read, client);
      return client;
    };
  }

  /** Stored clients' secrets are checked against their hashes; static clients keep the plain comparison. */
  installSecretCheck(provider: Provider): void {
    const lookup = (clientId: string) => this.lookup(clientId);
    const hasher = this.hasher;
    const acceptedSecrets = this.acceptedSecrets;
    const prototype = provider.Client.prototype as unknown as {
      clientId: string;
      compareClientSecret(this: { clientId: string }, actual: string): boolean | Promise<boolean>;
    };
    const plain = prototype.compareClientSecret;
    prototype.compareClientSecret = async function compareStoredClientSecret(actual: string) {
      const stored = await lookup(this.clientId);
      if (!stored) return plain.call(this, actual);
      if (stored.status !== 'active') return false;
      const now = Date.now();
      const presented = Buffer.from(actual, 'utf8');
      const last = acceptedSecrets.get(stored);
      if (last && now < last.until && last.secret.length === presented.length && timingSafeEqual(last.secret, presented)) return true;
      if (!hasher.accepts(stored.secrets, actual, now)) return false;
      const expiries = ClientSecretHasher.live(stored.secrets, now).map((s) => (s.expiresAt ? Date.parse(s.expiresAt) : Infinity));
      acceptedSecrets.set(stored, { secret: presented, until: Math.min(...expiries) });
      return true;
    };
  }
}
