/** argon2id at OWASP's parameters (19 MiB, t=2, p=1), DESIGN §6; computed on low-priority threads (hash-threads.ts). */
import { availableParallelism } from 'node:os';
import { HashThreadError, HashThreads } from './hash-threads.ts';

const PARAMS = { algorithm: 2 /* Algorithm.Argon2id (a const enum) */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

const threads = new HashThreads();

/**
 * With `processes` worker processes on this machine (VKHOD_WORKERS), each hashes on its share of
 * the cores — at least one thread — so that the cluster as a whole runs one hash per core.
 * Called at start, before the first hash.
 */
export function shareHashingCores(processes: number): void {
  threads.size = Math.max(1, Math.ceil(availableParallelism() / Math.max(1, processes)));
}

/** How many hashes run at once in this process. */
export const hashingThreads = (): number => threads.size;

export function hashPassword(password: string): Promise<string> {
  return threads.hash(password, PARAMS);
}

/**
 * Whether `password` matches `passwordHash`; a hash the library cannot read is no match. A hashing
 * thread that stopped is thrown, not answered false: the attempt's reservation is then released
 * (Limits.attempt) instead of counting a right password as a wrong one.
 */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await threads.verify(passwordHash, password);
  } catch (err) {
    if (err instanceof HashThreadError) throw err;
    return false;
  }
}

/**
 * A hash of a random password, computed once: unknown accounts are checked against it so that
 * "no such account" costs the same time as "wrong password".
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(`decoy-${Math.random()}-${Date.now()}`);
  return decoy;
}
