/**
 * Signs a vkhod challenge like a citizen's signing tool does: a CMS (PKCS#7) detached signature
 * with the certificate inside. Prints it as Base64 (to paste on the page) or writes a .sig file.
 *
 *   npm run esign -- --cert me.pem --key me.key --challenge "vkhod:localhost:3000:…"
 *   npm run esign -- --cert me.pem --key me.key --in vkhod-challenge.txt --out challenge.sig
 *   npm run esign -- --as rsa --challenge "…"      (a certificate from `npm run cli -- esign make-test-ca`)
 *   npm run esign -- --as gost256 --challenge "…"  (from `npm run cli -- esign make-test-ca --gost`)
 *
 * RSA and ECDSA keys (PEM: PKCS#8, PKCS#1 or SEC1) and GOST R 34.10-2012 keys (PKCS#8 as OpenSSL's
 * GOST engine writes them; signed with Streebog). --no-attributes signs the content itself.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEV_ESIGN_DIR } from '../config/federation.ts';
import { signCms } from './esign/sign.ts';

const USAGE = `usage: npm run esign -- (--cert FILE --key FILE | --as rsa|ecdsa|gost256|gost512 [--dir DIR]) (--challenge TEXT | --in FILE)
                      [--chain FILE] [--attached] [--no-attributes] [--out FILE.sig]`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      cert: { type: 'string' },
      key: { type: 'string' },
      as: { type: 'string' },
      dir: { type: 'string' },
      challenge: { type: 'string' },
      in: { type: 'string' },
      chain: { type: 'string' },
      attached: { type: 'boolean' },
      'no-attributes': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return console.log(USAGE);
  let { cert, key } = values;
  if (values.as) {
    if (!['rsa', 'ecdsa', 'gost256', 'gost512'].includes(values.as)) throw new Error('--as is rsa, ecdsa, gost256 or gost512');
    const dir = values.dir ?? DEV_ESIGN_DIR;
    cert ??= join(dir, `citizen-${values.as}.pem`);
    key ??= join(dir, `citizen-${values.as}.key`);
  }
  if (!cert || !key) throw new Error('give --cert and --key (or --as rsa|ecdsa|gost256|gost512)');
  if (Boolean(values.challenge) === Boolean(values.in)) throw new Error('give the challenge: --challenge TEXT or --in FILE');
  const content = values.in ? readFileSync(values.in) : Buffer.from(values.challenge!, 'utf8');
  const signature = await signCms({
    content: new Uint8Array(content),
    certificatePem: readFileSync(cert, 'utf8'),
    privateKeyPem: readFileSync(key, 'utf8'),
    chainPem: values.chain ? readFileSync(values.chain, 'utf8') : undefined,
    attached: values.attached,
    noAttributes: values['no-attributes'],
  });
  if (values.out) {
    writeFileSync(values.out, signature);
    console.error(`signature written to ${values.out} (${signature.length} bytes, DER)`);
  } else {
    console.log(Buffer.from(signature).toString('base64'));
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(`esign: ${err.message}\n\n${USAGE}`);
  process.exit(2);
});
