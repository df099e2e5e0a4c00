/**
 * `npm run cli -- esign make-test-ca [--out DIR] [--force]`: a test CA and two citizens'
 * certificates (RSA and ECDSA, SNILS/INN/name in the subject) for development. vkhod trusts DIR in
 * development by default (VKHOD_ESIGN_TRUSTED_CAS_FILE=./data/esign-test-ca): only CA
 * certificates there become trust anchors, and the CRL there is checked.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CERTIFICATE_HOLDERS } from '../dev-people.ts';
import { createCa, createCrl, issueCitizen, privateKeyPem } from './test-ca.ts';

const YEAR = 365 * 86400_000;

export interface MadeTestCa {
  dir: string;
  files: string[];
}

export async function makeTestCa(dir: string, options: { force?: boolean } = {}): Promise<MadeTestCa> {
  if (existsSync(join(dir, 'ca.pem')) && !options.force) throw new Error(`${dir} already has a test CA (ca.pem); use --force to make a new one`);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, content: string, secret = false) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: secret ? 0o600 : 0o644 });
    if (secret) chmodSync(path, 0o600);
    files.push(path);
  };
  const ca = await createCa({ kind: 'ecdsa' });
  write('ca.pem', ca.certificate.toString('pem'));
  write('ca.key', await privateKeyPem(ca.keys.privateKey), true);
  write('ca.crl', (await createCrl(ca, [], { nextUpdate: new Date(Date.now() + YEAR) })).toString('pem'));
  const lines = ['Test CA for vkhod development. NOT for production.', '', `CA: ${ca.certificate.subject}`, ''];
  for (const holder of CERTIFICATE_HOLDERS) {
    const citizen = await issueCitizen(ca, holder, { kind: holder.kind, notAfter: new Date(Date.now() + YEAR) });
    write(`${holder.file}.pem`, citizen.certificate.toString('pem'));
    write(`${holder.file}.key`, await privateKeyPem(citizen.keys.privateKey), true);
    lines.push(`${holder.file} (${holder.kind.toUpperCase()}): ${holder.family} ${holder.given}, СНИЛС ${holder.snils}, ИНН ${holder.inn}, serial ${citizen.certificate.serialNumber}`);
  }
  lines.push('', 'Sign a challenge:', `  npm run esign -- --dir ${dir} --as rsa --challenge "vkhod:…"`);
  write('README.txt', `${lines.join('\n')}\n`);
  return { dir, files };
}
