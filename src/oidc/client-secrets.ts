/**
 * Client secrets at rest (DESIGN §6): only a keyed hash is stored — HMAC-SHA256 under a key derived
 * from the master secret, with a random salt per secret. A secret vkhod generates carries 256 random
 * bits, so no slow password hash is needed (argon2 at every token request would cost tens of
 * milliseconds and 19 MiB each); the key means a copy of the store alone cannot even test a guess.
 * A secret from the clients file must be at least 32 characters (config/clients.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientSecretHash } from '../store.ts';

export class ClientSecretHasher {
  constructor(private readonly key: Buffer) {}

  /** A new secret: 32 random bytes, base64url (43 characters). */
  static generate(): string {
    return randomBytes(32).toString('base64url');
  }

  /** `v1.<salt>.<hmac>` */
  hash(secret: string): string {
    const salt = randomBytes(16).toString('base64url');
    return `v1.${salt}.${this.digest(salt, secret)}`;
  }

  private digest(salt: string, secret: string): string {
    return createHmac('sha256', this.key).update(salt).update('\0').update(secret, 'utf8').digest('base64url');
  }

  matches(hash: string, secret: string): boolean {
    const [version, salt, digest] = hash.split('.');
    if (version !== 'v1' || !salt || !digest) return false;
    const expected = Buffer.from(digest);
    const given = Buffer.from(this.digest(salt, secret));
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** Secrets accepted at `now`: the current one, and a replaced one until its overlap ends. */
  static live(secrets: readonly ClientSecretHash[], now = Date.now()): ClientSecretHash[] {
    return secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > now);
  }

  /** Whether `presented` is a secret accepted at `now` (every live one is checked: no early exit). */
  accepts(secrets: readonly ClientSecretHash[], presented: string, now = Date.now()): boolean {
    let ok = false;
    for (const secret of ClientSecretHasher.live(secrets, now)) ok = this.matches(secret.hash, presented) || ok;
    return ok;
  }
}
