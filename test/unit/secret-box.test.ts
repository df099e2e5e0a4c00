import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { SecretBox } from '../../src/security/secret-box.ts';

describe('SecretBox', () => {
  const master = randomBytes(32);
  const box = new SecretBox(master);

  it('decrypts what it encrypted, for the same context', () => {
    const sealed = box.encrypt('JBSWY3DPEHPK3PXP — секрет', 'totp:account-1');
    expect(sealed).to.match(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).to.not.include('JBSWY3DPEHPK3PXP');
    expect(box.decrypt(sealed, 'totp:account-1')).to.equal('JBSWY3DPEHPK3PXP — секрет');
  });

  it('never produces the same ciphertext twice (random IV)', () => {
    expect(box.encrypt('same', 'ctx')).to.not.equal(box.encrypt('same', 'ctx'));
  });

  it('throws when the ciphertext, tag or IV was altered', () => {
    const sealed = box.encrypt('secret value', 'ctx');
    const [v, iv, tag, body] = sealed.split('.') as [string, string, string, string];
    const flip = (s: string) => {
      const bytes = Buffer.from(s, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      return bytes.toString('base64url');
    };
    expect(() => box.decrypt([v, iv, tag, flip(body)].join('.'), 'ctx')).to.throw();
    expect(() => box.decrypt([v, iv, flip(tag), body].join('.'), 'ctx')).to.throw();
    expect(() => box.decrypt([v, flip(iv), tag, body].join('.'), 'ctx')).to.throw();
  });

  it('throws for another context (a secret cannot be moved to another record)', () => {
    const sealed = box.encrypt('secret value', 'totp:account-1');
    expect(() => box.decrypt(sealed, 'totp:account-2')).to.throw();
  });

  it('throws for another master key', () => {
    const sealed = box.encrypt('secret value', 'ctx');
    expect(() => new SecretBox(randomBytes(32)).decrypt(sealed, 'ctx')).to.throw();
    // The same master key in a new instance (another process) decrypts it.
    expect(new SecretBox(Buffer.from(master)).decrypt(sealed, 'ctx')).to.equal('secret value');
  });

  it('throws for something that is not a sealed secret', () => {
    expect(() => box.decrypt('plain text', 'ctx')).to.throw(/not a sealed secret/);
    expect(() => box.decrypt('v2.a.b.c', 'ctx')).to.throw(/not a sealed secret/);
  });

  it('derives a different key per purpose, and MACs compare only for the same purpose and data', () => {
    expect(box.key('csrf').equals(box.key('codes'))).to.equal(false);
    const mac = box.mac('codes', 'challenge:123456');
    expect(box.macEquals('codes', 'challenge:123456', mac)).to.equal(true);
    expect(box.macEquals('codes', 'challenge:123457', mac)).to.equal(false);
    expect(box.macEquals('csrf', 'challenge:123456', mac)).to.equal(false);
    expect(box.macEquals('codes', 'challenge:123456', mac.slice(1))).to.equal(false);
  });
});
