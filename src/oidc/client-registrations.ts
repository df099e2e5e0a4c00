/**
 * Managing relying parties (issue 14): create, update, rotate the secret with an overlap, end the
 * overlap, disable, enable, delete — for the admin API and the CLI alike. Every change is a compare-and-set on the stored client (retried
 * on a concurrent change), is audited (`client.*`), and is seen by every process within the
 * registry's cache time (clients.ts).
 * Seeding the store from the clients file: client-seeding.ts.
 */
import { clientSchema } from '../../config/clients.ts';
import type { AuditInput } from '../security/audit.ts';
import type { ClientSecretHash, StoredClient } from '../store.ts';
import { ClientSecretHasher } from './client-secrets.ts';
import type { ClientRegistry } from './clients.ts';

export type ClientProblem = 'not_found' | 'exists' | 'reserved' | 'invalid' | 'secret_given' | 'no_secret' | 'conflict' | 'esia';

export class ClientRegistrationError extends Error {
  constructor(
    readonly code: ClientProblem,
    /** for `invalid`: what is wrong, as node-oidc-provider or the schema says it */
    readonly detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'ClientRegistrationError';
  }
}

/** A client as the admin API and the CLI show it: never a secret or its hash. */
export interface ClientView {
  client_id: string;
  status: StoredClient['status'];
  source: StoredClient['source'];
  version: number;
  created_at: string;
  updated_at: string;
  metadata: Record<string, unknown>;
  /** the secrets accepted now: the current one and, during an overlap, the one it replaced */
  secrets: Array<{ created_at: string; expires_at?: string }>;
}

export interface ClientRegistrationsDependencies {
  registry: ClientRegistry;
  audit: { record(input: AuditInput): Promise<unknown> };
  /** node-oidc-provider's own check of the metadata (and vkhod's scope rules): throws with a message. */
  validate(metadata: Record<string, unknown>): Promise<void>;
  /** vkhod's own client ids (cabinet, demo): never stored */
  reserved: readonly string[];
  /** default overlap of a secret rotation, seconds */
  secretOverlapSeconds: number;
  /** key for the digest of file entries (change detection without keeping the file's plain secret) */
  digest(data: string): string;
}

export interface Actor {
  actor: string;
  ip?: string;
}

const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post']);
const ATTEMPTS = 5;

const needsSecret = (metadata: Record<string, unknown>) =>
  SECRET_METHODS.has(String(metadata.token_endpoint_auth_method ?? 'client_secret_basic'));

export function clientView(client: StoredClient, now = Date.now()): ClientView {
  return {
    client_id: client.clientId,
    status: client.status,
    source: client.source,
    version: client.version,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
    metadata: client.metadata,
    secrets: ClientSecretHasher.live(client.secrets, now).map((s) => ({
      created_at: s.createdAt,
      ...(s.expiresAt ? { expires_at: s.expiresAt } : {}),
    })),
  };
}

function describe(issue: { path: PropertyKey[]; message: string }): string {
  const path = issue.path.map(String).join('.');
  return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message;
}

/**
 * What decides where a client's codes, tokens and sign-outs go and what it may get: kept in the
 * audit of a registration or a change (nothing secret: secrets live apart, hashed), so "who added
 * this redirect URI, and when" can be answered. `only`: the fields a change named.
 */
const REVIEWED_METADATA = [
  'client_name',
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'scope',
  'token_endpoint_auth_method',
  'jwks_uri',
  'vkhod_resource_server',
  'vkhod_machine_scope',
  'vkhod_pkce_optional',
  'vkhod_esia_compat',
];

export function reviewedMetadata(metadata: Record<string, unknown>, only?: string[]): Record<string, unknown> {
  const names = only ? REVIEWED_METADATA.filter((name) => only.includes(name)) : REVIEWED_METADATA;
  return Object.fromEntries(names.filter((name) => metadata[name] !== undefined).map((name) => [name, metadata[name]]));
}

export class ClientRegistrations {
  constructor(readonly deps: ClientRegistrationsDependencies) {}

  private get repository() {
    return this.deps.registry.repository;
  }

  /**
   * The registration checked as the clients file is (config/clients.ts), then by node-oidc-provider
   * itself. `secret` stands in for the client's secret (the schema wants one for the secret methods).
   */
  async checked(input: Record<string, unknown>, secret: string | undefined): Promise<Record<string, unknown>> {
    const parsed = clientSchema.safeParse({ ...input, ...(secret ? { client_secret: secret } : {}) });
    if (!parsed.success) throw new ClientRegistrationError('invalid', describe(parsed.error.issues[0]!));
    const { client_secret: _secret, ...metadata } = parsed.data;
    try {
      await this.deps.validate({ ...metadata, ...(secret ? { client_secret: secret } : {}) });
    } catch (err) {
      const e = err as { error_description?: string; message?: string };
      throw new ClientRegistrationError('invalid', e.error_description ?? e.message ?? 'invalid client metadata');
    }
    return metadata;
  }

  private object(input: unknown): Record<string, unknown> {
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      throw new ClientRegistrationError('invalid', 'the body must be a JSON object of client metadata');
    return input as Record<string, unknown>;
  }

  private async current(clientId: string): Promise<StoredClient> {
    const client = await this.repository.find(clientId);
    if (!client || client.status === 'deleted') throw new ClientRegistrationError('not_found');
    return client;
  }

  /** Compare-and-set with retries: `change` gets the stored client and returns the next one (and a result). */
  private async change<T>(clientId: string, change: (client: StoredClient) => Promise<{ next: StoredClient; result: T }>) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const client = await this.current(clientId);
      const { next, result } = await change(client);
      if (await this.repository.update({ ...next, updatedAt: new Date().toISOString() }, client.version)) {
        this.deps.registry.forget(clientId);
        return { client: (await this.repository.find(clientId))!, result };
      }
    }
    throw new ClientRegistrationError('conflict');
  }

  private newSecret(createdAt: string): { secret: string; stored: ClientSecretHash } {
    const secret = ClientSecretHasher.generate();
    return { secret, stored: { hash: this.deps.registry.hasher.hash(secret), createdAt } };
  }

  async list(): Promise<ClientView[]> {
    const now = Date.now();
    return (await this.repository.list()).filter((c) => c.status !== 'deleted').map((c) => clientView(c, now));
  }

  async get(clientId: string): Promise<ClientView> {
    return clientView(await this.current(clientId));
  }

  /** A new client; its secret (for the secret methods) is generated and returned once. */
  async create(input: unknown, by: Actor): Promise<{ client: ClientView; secret?: string }> {
    const body = this.object(input);
    if (body.client_secret !== undefined) throw new ClientRegistrationError('secret_given');
    // ESIA-profile clients live in the clients file (`vkhod clients add-esia`): the ESIA endpoints read them there only.
    if (body.esia !== undefined) throw new ClientRegistrationError('esia');
    const clientId = String(body.client_id ?? '');
    if (this.deps.reserved.includes(clientId)) throw new ClientRegistrationError('reserved');
    const at = new Date().toISOString();
    const fresh = needsSecret(body) ? this.newSecret(at) : undefined;
    const metadata = await this.checked(body, fresh?.secret);
    const record: StoredClient = {
      clientId,
      status: 'active',
      metadata,
      secrets: fresh ? [fresh.stored] : [],
      source: 'store',
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    let stored = await this.repository.create(record);
    if (!stored) {
      // an id whose client was deleted may be registered again
      const existing = await this.repository.find(clientId);
      if (existing?.status !== 'deleted') throw new ClientRegistrationError('exists');
      stored = await this.repository.update({ ...record, version: existing.version }, existing.version);
      if (!stored) throw new ClientRegistrationError('conflict');
    }
    this.deps.registry.forget(clientId);
    await this.deps.audit.record({
      type: 'client.created',
      actor: by.actor,
      ip: by.ip,
      clientId,
      outcome: 'success',
      details: { source: 'store', registered: reviewedMetadata(metadata) },
    });
    return { client: clientView((await this.repository.find(clientId))!), ...(fresh ? { secret: fresh.secret } : {}) };
  }

  /**
   * Changes the given metadata fields (`null` removes one); `client_id` cannot change, the secret is
   * rotated separately. A change to a secret method gives the client a secret (returned once); a
   * change away from one drops its secrets.
   */
  async update(clientId: string, input: unknown, by: Actor): Promise<{ client: ClientView; secret?: string }> {
    const body = this.object(input);
    if (body.client_secret !== undefined) throw new ClientRegistrationError('secret_given');
    if (body.esia !== undefined) throw new ClientRegistrationError('esia');
    if (body.client_id !== undefined && body.client_id !== clientId)
      throw new ClientRegistrationError('invalid', 'client_id cannot change: delete the client and register a new one');
    const { client, result } = await this.change(clientId, async (stored) => {
      const merged: Record<string, unknown> = { ...stored.metadata };
      for (const [name, value] of Object.entries(body)) {
        if (value === null) delete merged[name];
        else merged[name] = value;
      }
      merged.client_id = clientId;
      const at = new Date().toISOString();
      const fresh = needsSecret(merged) && !stored.secrets.length ? this.newSecret(at) : undefined;
      const metadata = await this.checked(merged, fresh?.secret ?? (needsSecret(merged) ? ClientSecretHasher.generate() : undefined));
      const secrets = needsSecret(merged) ? (fresh ? [fresh.stored] : stored.secrets) : [];
      return { next: { ...stored, metadata, secrets, source: 'store' }, result: { secret: fresh?.secret, fields: Object.keys(body) } };
    });
    await this.deps.audit.record({
      type: 'client.updated',
      actor: by.actor,
      ip: by.ip,
      clientId,
      outcome: 'success',
      details: { fields: result.fields.slice(0, 50), now: reviewedMetadata(client.metadata, result.fields) },
    });
    return { client: clientView(client), ...(result.secret ? { secret: result.secret } : {}) };
  }

  /**
   * A new secret, returned once. The one it replaces is still accepted for `overlapSeconds`
   * (default `VKHOD_CLIENT_SECRET_OVERLAP_SECONDS`; 0 = refused at once) so the relying party can
   * switch without downtime. A rotation during an overlap ends that earlier overlap: at most two
   * secrets are ever accepted, the newest and the one before it.
   */
  async rotateSecret(clientId: string, options: { overlapSeconds?: number }, by: Actor): Promise<{ client: ClientView; secret: string }> {
    const overlap = options.overlapSeconds ?? this.deps.secretOverlapSeconds;
    const { client, result } = await this.change(clientId, async (stored) => {
      if (!needsSecret(stored.metadata)) throw new ClientRegistrationError('no_secret');
      const now = Date.now();
      const at = new Date(now).toISOString();
      const fresh = this.newSecret(at);
      const previous = ClientSecretHasher.live(stored.secrets, now).find((s) => !s.expiresAt);
      const overlapEnds = previous && overlap > 0 ? new Date(now + overlap * 1000).toISOString() : undefined;
      const secrets = [fresh.stored, ...(previous && overlapEnds ? [{ ...previous, expiresAt: overlapEnds }] : [])];
      return { next: { ...stored, secrets, source: 'store' }, result: { secret: fresh.secret, overlapEnds } };
    });
    await this.deps.audit.record({
      type: 'client.secret-rotated',
      actor: by.actor,
      ip: by.ip,
      clientId,
      outcome: 'success',
      details: { previousAcceptedUntil: result.overlapEnds ?? null },
    });
    return { client: clientView(client), secret: result.secret };
  }

  /** The replaced secret stops working now (the relying party has switched). */
  async endOverlap(clientId: string, by: Actor): Promise<{ client: ClientView }> {
    const { client, result } = await this.change(clientId, async (stored) => {
      const secrets = stored.secrets.filter((s) => !s.expiresAt);
      return { next: { ...stored, secrets, source: 'store' }, result: stored.secrets.length - secrets.length };
    });
    await this.deps.audit.record({
      type: 'client.secret-overlap-ended',
      actor: by.actor,
      ip: by.ip,
      clientId,
      outcome: 'success',
      details: { secretsRemoved: result },
    });
    return { client: clientView(client) };
  }

  async setStatus(clientId: string, status: 'active' | 'disabled', by: Actor): Promise<{ client: ClientView }> {
    const { client } = await this.change(clientId, async (stored) => ({ next: { ...stored, status, source: 'store' }, result: undefined }));
    await this.deps.audit.record({
      type: status === 'disabled' ? 'client.disabled' : 'client.enabled',
      actor: by.actor,
      ip: by.ip,
      clientId,
      outcome: 'success',
    });
    return { client: clientView(client) };
  }

  /** Deleted: refused everywhere at once, secrets dropped; a tombstone keeps the clients file from bringing it back. */
  async delete(clientId: string, by: Actor): Promise<void> {
    await this.change(clientId, async (stored) => ({
      next: { ...stored, status: 'deleted', metadata: {}, secrets: [], source: 'store', fileDigest: undefined },
      result: undefined,
    }));
    await this.deps.audit.record({ type: 'client.deleted', actor: by.actor, ip: by.ip, clientId, outcome: 'success' });
  }
}
