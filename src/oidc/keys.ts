/**
 * Signing keys (RS256 and ES256): generated on first start, kept encrypted in the store so every
 * process publishes and signs with the same keys (issue 14).
 *
 * A key's life: *pending* — published in the JWKS but not signing, from its rotation until
 * `activatesAt` (VKHOD_KEY_ACTIVATION_DELAY later), so relying parties that cache the JWKS have
 * it before the first token it signs; *active* — the newest key of its algorithm whose activation
 * has come; *retired* — superseded by a newer active key, still published until every token it
 * signed has expired, then dropped. A compromised key is *withdrawn*: gone from the JWKS and from
 * signing at once (its private part is deleted); when it was the active key, a pending key of its
 * algorithm takes over at once, or a new one is made.
 *
 * The states are derived from the stored times and the clock (`keyStates`), so a key activates on
 * every process by itself; live-keys.ts re-reads the set every few seconds.
 */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { SecretBox } from '../security/secret-box.ts';
import type { SettingRepository } from '../store.ts';

const SETTING = 'oidc.signing-keys';
export const KEY_ALGS = ['RS256', 'ES256'] as const;
type Alg = (typeof KEY_ALGS)[number];

export interface StoredKey {
  jwk: JWK;
  createdAt: string;
  /** When it starts signing (absent in sets written before issue 14: `createdAt`). */
  activatesAt?: string;
  /** Sets written before issue 14: when a newer key took over. */
  retiredAt?: string;
}

/** What is kept of a withdrawn key: never its private part. */
export interface WithdrawnKey {
  kid: string;
  alg: string;
  createdAt: string;
  withdrawnAt: string;
}

export interface KeySet {
  keys: StoredKey[];
  withdrawn?: WithdrawnKey[];
}

export type KeyState = 'active' | 'pending' | 'retired';

export interface KeyStatus {
  kid: string;
  alg: string;
  state: KeyState | 'withdrawn';
  createdAt: string;
  activatesAt?: string;
  /** retired keys: since when */
  retiredAt?: string;
  withdrawnAt?: string;
}

/**
 * A key's id: its JWK thumbprint's first 16 letters and digits, and 8 characters of a random UUID.
 * Only letters and digits lead: operators type it (`vkhod keys withdraw KID`, the admin API's
 * paths), and a base64url thumbprint can begin with `-` — a KID the CLI then took for an option.
 */
export function keyId(thumbprint: string, uuid: string): string {
  return `${thumbprint.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}-${uuid.slice(0, 8)}`;
}

async function newKey(alg: Alg, activatesAt?: string): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  jwk.alg = alg;
  jwk.use = 'sig';
  jwk.kid = keyId(await calculateJwkThumbprint(jwk), randomUUID());
  const createdAt = new Date().toISOString();
  return { jwk, createdAt, activatesAt: activatesAt ?? createdAt };
}

const activation = (key: StoredKey) => Date.parse(key.activatesAt ?? key.createdAt);

/**
 * Each key's state at `now`; keys retired longer than `retentionSeconds` ago are left out. Per
 * algorithm, the active key is the newest one whose activation has come.
 */
export function keyStates(set: KeySet, now: number, retentionSeconds: number): Array<{ key: StoredKey; status: KeyStatus }> {
  const out: Array<{ key: StoredKey; status: KeyStatus }> = [];
  const algs = [...new Set(set.keys.map((k) => String(k.jwk.alg)))];
  for (const alg of algs) {
    // newest activation first
    const keys = set.keys.filter((k) => k.jwk.alg === alg).sort((a, b) => activation(b) - activation(a));
    let newerActivation: number | undefined;
    let activeFound = false;
    for (const key of keys) {
      const base = { kid: key.jwk.kid!, alg, createdAt: key.createdAt, activatesAt: key.activatesAt ?? key.createdAt };
      if (activation(key) > now) {
        out.push({ key, status: { ...base, state: 'pending' } });
      } else if (!activeFound && !key.retiredAt) {
        activeFound = true;
        out.push({ key, status: { ...base, state: 'active' } });
      } else {
        const retiredAt = key.retiredAt ? Date.parse(key.retiredAt) : (newerActivation ?? now);
        if (retiredAt + retentionSeconds * 1000 > now)
          out.push({ key, status: { ...base, state: 'retired', retiredAt: new Date(retiredAt).toISOString() } });
      }
      if (activation(key) <= now) newerActivation = activation(key);
    }
  }
  return out;
}

/** The JWKS for node-oidc-provider: active keys first (node-oidc-provider signs with the first key of an algorithm), then pending, then retired. */
export function publishedJwks(set: KeySet, now: number, retentionSeconds: number): { keys: JWK[] } {
  const states = keyStates(set, now, retentionSeconds);
  const order: KeyState[] = ['active', 'pending', 'retired'];
  return { keys: order.flatMap((state) => states.filter((s) => s.status.state === state).map((s) => s.key.jwk)) };
}

export class SigningKeyError extends Error {
  constructor(readonly code: 'not_found' | 'conflict') {
    super(code === 'not_found' ? 'no such signing key' : 'signing keys changed concurrently; try again');
    this.name = 'SigningKeyError';
  }
}

export class SigningKeys {
  constructor(
    private readonly settings: SettingRepository,
    private readonly box: SecretBox,
  ) {}

  /** The stored set, or undefined before the first start. */
  async read(): Promise<{ set: KeySet; version: number } | undefined> {
    const stored = await this.settings.get(SETTING);
    if (!stored) return undefined;
    try {
      return { set: JSON.parse(this.box.decrypt(stored.value, SETTING)) as KeySet, version: stored.version };
    } catch {
      throw new Error('signing keys in the store cannot be decrypted: VKHOD_SECRET_KEY differs from the one they were created with');
    }
  }

  private async write(set: KeySet, expectedVersion: number): Promise<boolean> {
    return this.settings.put(SETTING, this.box.encrypt(JSON.stringify(set), SETTING), expectedVersion);
  }

  /** The set, generating active keys on first use; when two processes race, the one that wrote first wins. */
  async ensure(): Promise<KeySet> {
    const current = await this.read();
    if (current) return current.set;
    const set = { keys: await Promise.all(KEY_ALGS.map((alg) => newKey(alg))) };
    if (await this.write(set, 0)) return set;
    return (await this.read())!.set;
  }

  /** The JWKS to publish now (see publishedJwks). */
  async load(retentionSeconds: number): Promise<{ keys: JWK[] }> {
    return publishedJwks(await this.ensure(), Date.now(), retentionSeconds);
  }

  /** Compare-and-set with retries. */
  private async change<T>(retentionSeconds: number, change: (set: KeySet, now: number) => Promise<{ set: KeySet; result: T }>): Promise<T> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = (await this.read()) ?? { set: { keys: [] }, version: 0 };
      const now = Date.now();
      const { set, result } = await change(current.set, now);
      // keys past their retention are dropped for good
      const kept = new Set(keyStates(set, now, retentionSeconds).map((s) => s.key.jwk.kid));
      if (await this.write({ ...set, keys: set.keys.filter((k) => kept.has(k.jwk.kid)) }, current.version)) return result;
    }
    throw new SigningKeyError('conflict');
  }

  /**
   * New keys for every algorithm, published at once and signing after `delaySeconds`; the keys
   * they replace keep signing until then, and stay published until their tokens have expired.
   */
  async rotate(retentionSeconds: number, delaySeconds: number): Promise<{ pending: string[]; activatesAt: string }> {
    return this.change(retentionSeconds, async (set, now) => {
      const activatesAt = new Date(now + delaySeconds * 1000).toISOString();
      const fresh = await Promise.all(KEY_ALGS.map((alg) => newKey(alg, activatesAt)));
      return { set: { ...set, keys: [...fresh, ...set.keys] }, result: { pending: fresh.map((k) => k.jwk.kid!), activatesAt } };
    });
  }

  /** Pending keys (all, or the one named) sign from now on. */
  async activate(retentionSeconds: number, kid?: string): Promise<string[]> {
    return this.change(retentionSeconds, async (set, now) => {
      const pending = keyStates(set, now, retentionSeconds)
        .filter((s) => s.status.state === 'pending' && (!kid || s.status.kid === kid))
        .map((s) => s.status.kid);
      if (kid && !pending.length) throw new SigningKeyError('not_found');
      const at = new Date(now).toISOString();
      return {
        set: { ...set, keys: set.keys.map((k) => (pending.includes(k.jwk.kid!) ? { ...k, activatesAt: at } : k)) },
        result: pending,
      };
    });
  }

  /**
   * A compromised key: out of the JWKS and out of signing at once, its private part deleted. When it
   * was the active key of its algorithm, the newest pending one of that algorithm activates now, or a
   * new key is made and active now.
   */
  async withdraw(retentionSeconds: number, kid: string): Promise<{ withdrawn: string; replacement?: string }> {
    return this.change(retentionSeconds, async (set, now) => {
      const states = keyStates(set, now, retentionSeconds);
      const target = states.find((s) => s.status.kid === kid);
      if (!target) throw new SigningKeyError('not_found');
      const at = new Date(now).toISOString();
      let keys = set.keys.filter((k) => k.jwk.kid !== kid);
      let replacement: string | undefined;
      if (target.status.state === 'active') {
        const pending = states.find((s) => s.status.state === 'pending' && s.status.alg === target.status.alg);
        if (pending) {
          replacement = pending.status.kid;
          keys = keys.map((k) => (k.jwk.kid === replacement ? { ...k, activatesAt: at } : k));
        } else {
          const fresh = await newKey(target.status.alg as Alg, at);
          replacement = fresh.jwk.kid!;
          keys = [fresh, ...keys];
        }
      }
      const withdrawn: WithdrawnKey = { kid, alg: target.status.alg, createdAt: target.key.createdAt, withdrawnAt: at };
      return { set: { keys, withdrawn: [...(set.withdrawn ?? []), withdrawn].slice(-50) }, result: { withdrawn: kid, replacement } };
    });
  }

  async list(retentionSeconds: number): Promise<KeyStatus[]> {
    const current = await this.read();
    if (!current) return [];
    const now = Date.now();
    return [
      ...keyStates(current.set, now, retentionSeconds).map((s) => s.status),
      ...(current.set.withdrawn ?? []).map((w) => ({ ...w, state: 'withdrawn' as const })),
    ];
  }
}
