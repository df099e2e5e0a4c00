/**
 * The clients file seeds the store (issue 14; docs/configuration.md#clients-file), at every start:
 * a file client missing from the store is inserted; one still managed by the file (never changed
 * through the admin API or CLI) follows the file when its entry changes; once changed through the
 * API or CLI — or deleted there — the store is its master and the file entry is ignored (with a
 * warning), so a restart never reverts it. A client left out of the file stays in the store.
 * A bad entry throws: the process refuses to start, as before.
 */
import type { ClientMetadata } from '../../config/clients.ts';
import { reviewedMetadata, type ClientRegistrationError, type ClientRegistrations } from './client-registrations.ts';

export async function seedClients(
  registrations: ClientRegistrations,
  fileClients: readonly ClientMetadata[],
  warn: (data: Record<string, unknown>, message: string) => void,
): Promise<void> {
  const { deps } = registrations;
  const repository = deps.registry.repository;
  for (const entry of fileClients) {
    const clientId = entry.client_id;
    if (deps.reserved.includes(clientId)) continue;
    const digest = deps.digest(JSON.stringify(entry));
    const { client_secret: secret, ...given } = entry;
    let metadata: Record<string, unknown>;
    try {
      metadata = await registrations.checked(given, secret);
    } catch (err) {
      const detail = (err as ClientRegistrationError).detail ?? (err as Error).message;
      throw new Error(`clients file: ${detail.startsWith(`client ${clientId}`) ? detail : `client ${clientId}: ${detail}`}`);
    }
    const stored = await repository.find(clientId);
    const at = new Date().toISOString();
    const secrets = secret ? [{ hash: deps.registry.hasher.hash(secret), createdAt: at }] : [];
    const record = { clientId, status: 'active' as const, metadata, secrets, source: 'file' as const, fileDigest: digest };
    if (!stored) {
      if (await repository.create({ ...record, version: 1, createdAt: at, updatedAt: at }))
        await deps.audit.record({
          type: 'client.created',
          actor: 'system',
          clientId,
          outcome: 'success',
          details: { source: 'file', registered: reviewedMetadata(metadata) },
        });
    } else if (stored.fileDigest === digest) {
      continue;
    } else if (stored.source === 'file') {
      if (await repository.update({ ...stored, ...record, updatedAt: at }, stored.version))
        await deps.audit.record({
          type: 'client.updated',
          actor: 'system',
          clientId,
          outcome: 'success',
          details: { source: 'file', now: reviewedMetadata(metadata) },
        });
    } else {
      warn(
        { clientId, status: stored.status, changedAt: stored.updatedAt },
        stored.status === 'deleted'
          ? 'the clients file names a client deleted through the admin API or CLI: the file entry is ignored'
          : 'the clients file entry of a client changed through the admin API or CLI is ignored: the store is its master now',
      );
    }
    deps.registry.forget(clientId);
  }
}
