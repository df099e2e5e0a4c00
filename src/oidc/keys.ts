/**
 * Signing keys (RS256 and ES256): generated on first start, kept encrypted in the store so every
 * process signs with the same keys, rotated by `npm run cli -- keys rotate`. A rotated-out key
 * stays published (not used for signing) until every token it signed has expired.
 */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { SecretBox } from '../security/secret-box.ts';
import type { SettingRepository } from '../store.ts';

const SETTING = 'oidc.signing-keys';
const ALGS = ['RS256', 'ES256'] as const;

export interface StoredKey {
  jwk: JWK;
  createdAt: string;
  /** Set when a newer key took over; the key is only published after this. */
  retiredAt?: string;
}

interface KeySet {
  keys: StoredKey[];
}

async function newKey(alg: (typeof ALGS)[number]): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  jwk.alg = alg;
  jwk.use = 'sig';
  jwk.kid = `${(await calculateJwkThumbprint(jwk)).slice(0, 16)}-${randomUUID().slice(0, 8)}`;
  return { jwk, createdAt: new Date().toISOString() };
}

export class SigningKeys {
  constructor(
    private readonly settings: SettingRepository,
    private readonly box: SecretBox,
  ) {}

  private async read(): Promise<{ set: KeySet; version: number } | undefined> {
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

  /**
   * The JWKS for node-oidc-provider: active keys first (they sign), retired keys after (they are
   * only published) until `retentionSeconds` after retirement. Generates keys on first use; when
   * two processes race, the one that wrote first wins and the other reads its keys.
   */
  async load(retentionSeconds: number): Promise<{ keys: JWK[] }> {
    let current = await this.read();
    if (!current) {
      const set = { keys: await Promise.all(ALGS.map(newKey)) };
      if (!(await this.write(set, 0))) current = await this.read();
      else current = { set, version: 1 };
    }
    const now = Date.now();
    const live = current!.set.keys.filter((k) => !k.retiredAt || Date.parse(k.retiredAt) + retentionSeconds * 1000 > now);
    const ordered = [...live.filter((k) => !k.retiredAt), ...live.filter((k) => k.retiredAt)];
    return { keys: ordered.map((k) => k.jwk) };
  }

  /** New active keys for every algorithm; the previous ones are retired (published, not used). */
  async rotate(retentionSeconds: number): Promise<{ active: string[]; retired: string[]; dropped: string[] }> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = (await this.read()) ?? { set: { keys: [] }, version: 0 };
      const now = new Date();
      const fresh = await Promise.all(ALGS.map(newKey));
      const retired: string[] = [];
      const dropped: string[] = [];
      const kept: StoredKey[] = [];
      for (const key of current.set.keys) {
        const retiredAt = key.retiredAt ?? now.toISOString();
        if (Date.parse(retiredAt) + retentionSeconds * 1000 <= now.getTime()) dropped.push(key.jwk.kid!);
        else {
          if (!key.retiredAt) retired.push(key.jwk.kid!);
          kept.push({ ...key, retiredAt });
        }
      }
      if (await this.write({ keys: [...fresh, ...kept] }, current.version)) {
        return { active: fresh.map((k) => k.jwk.kid!), retired, dropped };
      }
    }
    throw new Error('signing keys changed concurrently; try again');
  }

  async list(): Promise<Array<{ kid: string; alg: string; createdAt: string; retiredAt?: string }>> {
    const current = await this.read();
    return (current?.set.keys ?? []).map((k) => ({
      kid: k.jwk.kid!,
      alg: String(k.jwk.alg),
      createdAt: k.createdAt,
      retiredAt: k.retiredAt,
    }));
  }
}
