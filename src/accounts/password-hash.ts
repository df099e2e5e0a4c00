/** argon2id at OWASP's parameters (19 MiB, t=2, p=1), DESIGN §6; computed on low-priority threads (hash-threads.ts). */
import { HashThreads } from './hash-threads.ts';

const PARAMS = { algorithm: 2 /* Algorithm.Argon2id (a const enum) */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

const threads = new HashThreads();

export function hashPassword(password: string): Promise<string> {
  return threads.hash(password, PARAMS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await threads.verify(passwordHash, password);
  } catch {
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
