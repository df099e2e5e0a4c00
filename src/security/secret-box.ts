/**
 * Keys derived from the master secret (HKDF-SHA256, one per purpose) and authenticated
 * encryption (AES-256-GCM) for secrets at rest: signing keys, TOTP seeds.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export type KeyPurpose = 'at-rest' | 'cookies' | 'csrf' | 'codes' | 'client-secrets';

export class SecretBox {
  private readonly keys = new Map<KeyPurpose, Buffer>();

  constructor(private readonly master: Buffer) {}

  key(purpose: KeyPurpose): Buffer {
    let key = this.keys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.master, Buffer.alloc(0), `vkhod/${purpose}`, 32));
      this.keys.set(purpose, key);
    }
    return key;
  }

  /** `v1.<iv>.<tag>.<ciphertext>` in base64url; `context` is bound as associated data. */
  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key('at-rest'), iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  /** Throws when the data was encrypted with another master key or altered. */
  decrypt(sealed: string, context: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key('at-rest'), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }

  mac(purpose: KeyPurpose, data: string): string {
    return createHmac('sha256', this.key(purpose)).update(data).digest('base64url');
  }

  macEquals(purpose: KeyPurpose, data: string, candidate: string): boolean {
    const expected = Buffer.from(this.mac(purpose, data));
    const given = Buffer.from(candidate);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
