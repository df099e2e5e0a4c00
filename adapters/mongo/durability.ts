/**
 * What the MongoDB store pins for durability (issue 14): every write acknowledged by a majority
 * of the replica set and journaled, every read at majority (never a write a failover can roll
 * back), retryable writes and reads on; and revocations — multi-document deletes, which the driver
 * does not retry by itself — retried here on the errors a failover raises (they are idempotent).
 */
import type { mongo } from 'mongoose';

/** Options of the store's connection (passed to the driver's MongoClient). */
export const DURABLE_CONNECTION = {
  writeConcern: { w: 'majority', journal: true },
  readConcern: { level: 'majority' },
  retryWrites: true,
  retryReads: true,
} as const satisfies Pick<mongo.MongoClientOptions, 'writeConcern' | 'readConcern' | 'retryWrites' | 'retryReads'>;

/** Server codes of a primary stepping down or a node shutting down: the write can go to the next primary. */
const FAILOVER_CODES = new Set([91, 189, 262, 6, 7, 89, 9001, 10107, 11600, 11602, 13435, 13436]);
const ATTEMPTS = 5;

export function isTransient(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: string; code?: unknown; hasErrorLabel?: (label: string) => boolean };
  if (e.hasErrorLabel?.('RetryableWriteError') || e.hasErrorLabel?.('TransientTransactionError')) return true;
  if (e.name === 'MongoNetworkError' || e.name === 'MongoNetworkTimeoutError' || e.name === 'MongoServerSelectionError') return true;
  return typeof e.code === 'number' && FAILOVER_CODES.has(e.code);
}

/** Runs an idempotent write again (up to 5 times, pausing 50 ms, 100 ms, …) while it fails for a failover. */
export async function retried<T>(write: () => Promise<T>, pause = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isTransient(err)) throw err;
      await pause(50 * 2 ** (attempt - 1));
    }
  }
}
