/**
 * `npm run cli -- esign make-test-ca [--out DIR] [--force]`: a test CA and two citizens'
 * certificates (RSA and ECDSA, SNILS/INN/name in the subject) for development. vkhod trusts DIR in
 * development by default (VKHOD_ESIGN_TRUSTED_CAS_FILE=./data/esign-test-ca): only CA
 * certificates there become trust anchors, and the CRL there is checked.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CERTIFICATE_HOLDERS } from '../dev-people.ts';
import { createGostCa, createGostCrl, issueGostCitizen } from './gost-ca.ts';
import { createCa, createCrl, issueCitizen, privateKeyPem } from './test-ca.ts';

const YEAR = 365 * 86400_000;

export interface MadeTestCa {
  dir: string;
  files: string[];
}

export async function makeTestCa(dir: string, options: { force?: boolean; gost?: boolean } = {}): Promise<MadeTestCa> {
  if (options.gost) return makeGostTestCa(dir, options);
  if (existsSync(join(dir, 'ca.pem')) && !options.force)
    throw new Error(`${dir} already has a test CA (ca.pem); use --force to make a new one`);
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
    lines.push(
      `${holder.file} (${holder.kind.toUpperCase()}): ${holder.family} ${holder.given}, СНИЛС ${holder.snils}, ИНН ${holder.inn}, serial ${citizen.certificate.serialNumber}`,
    );
  }
  lines.push('', 'Sign a challenge:', `  npm run esign -- --dir ${dir} --as rsa --challenge "vkhod:…"`);
  write('README.txt', `${lines.join('\n')}\n`);
  return { dir, files };
}

/** GOST people: a 256-bit key (tc26 A) and a 512-bit one (tc26 A), as citizens' qualified certificates have them. */
export const GOST_HOLDERS = [
  { file: 'citizen-gost256', family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703', paramSet: 'tc26-256-A' },
  {
    file: 'citizen-gost512',
    family: 'Морозова',
    given: 'Елена Игоревна',
    snils: '19876543247',
    inn: '500345678979',
    paramSet: 'tc26-512-A',
  },
] as const;

/**
 * `make-test-ca --gost`: a GOST R 34.10-2012 CA (gost-ca.pem, 256-bit key) with its CRL and two
 * citizens' certificates (256 and 512 bit), next to the RSA/ECDSA one in the same folder (vkhod
 * trusts every CA certificate there).
 */
async function makeGostTestCa(dir: string, options: { force?: boolean }): Promise<MadeTestCa> {
  if (existsSync(join(dir, 'gost-ca.pem')) && !options.force)
    throw new Error(`${dir} already has a GOST test CA (gost-ca.pem); use --force to make a new one`);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, content: string, secret = false) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: secret ? 0o600 : 0o644 });
    if (secret) chmodSync(path, 0o600);
    files.push(path);
  };
  const ca = createGostCa({ paramSet: 'tc26-256-A' });
  write('gost-ca.pem', ca.pem);
  write('gost-ca.key', ca.keyPem, true);
  write('gost-ca.crl', createGostCrl(ca, [], { nextUpdate: new Date(Date.now() + YEAR) }));
  const lines = ['GOST test CA for vkhod development (GOST R 34.10-2012, Streebog). NOT for production.', '', 'CA: gost-ca.pem', ''];
  for (const holder of GOST_HOLDERS) {
    const citizen = issueGostCitizen(ca, holder, { paramSet: holder.paramSet, notAfter: new Date(Date.now() + YEAR) });
    write(`${holder.file}.pem`, citizen.pem);
    write(`${holder.file}.key`, citizen.keyPem, true);
    lines.push(
      `${holder.file} (${holder.paramSet}): ${holder.family} ${holder.given}, СНИЛС ${holder.snils}, ИНН ${holder.inn}, serial ${citizen.serialNumber}`,
    );
  }
  lines.push(
    '',
    'Sign a challenge:',
    `  npm run esign -- --dir ${dir} --as gost256 --challenge "vkhod:…"`,
    'Check it with OpenSSL (libengine-gost-openssl):',
    `  openssl cms -engine gost -verify -binary -inform DER -in challenge.sig -content challenge.txt -CAfile ${join(dir, 'gost-ca.pem')}`,
  );
  write('README-gost.txt', `${lines.join('\n')}\n`);
  return { dir, files };
}
