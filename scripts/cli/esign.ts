/**
 * `vkhod esign …`: development helpers for qualified e-signature sign-in.
 *
 *   esign make-test-ca [--gost] [--out DIR] [--force]
 *
 * Writes a test CA and two citizens' certificates (RSA and ECDSA; with --gost a GOST R 34.10-2012
 * CA and citizens with 256- and 512-bit keys) with their keys to DIR
 * (default ./data/esign-test-ca, which vkhod trusts in development). Sign a challenge with
 * `npm run esign -- --as rsa --challenge "…"`. Never trust a test CA in production.
 */
import { parseArgs } from 'node:util';
import { DEV_ESIGN_DIR } from '../../config/federation.ts';
import { makeTestCa } from '../esign/make-test-ca.ts';

export const ESIGN_USAGE = `  esign make-test-ca [--gost] [--out DIR] [--force]`;

export async function esignCommand(action: string | undefined, args: string[], usage: (message: string) => Error): Promise<void> {
  if (action !== 'make-test-ca') throw usage(`unknown esign command ${action ?? ''}`);
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string' }, force: { type: 'boolean' }, gost: { type: 'boolean' } },
    strict: true,
  });
  const made = await makeTestCa(values.out ?? DEV_ESIGN_DIR, { force: values.force, gost: values.gost }).catch((err: Error) => {
    throw usage(err.message);
  });
  console.log(`test CA written to ${made.dir}:`);
  for (const file of made.files) console.log(`  ${file}`);
  console.log(`vkhod trusts it when VKHOD_ESIGN_TRUSTED_CAS_FILE=${made.dir} (the default in development)`);
  console.log(
    `sign a challenge: npm run esign -- --dir ${made.dir} --as ${values.gost ? 'gost256' : 'rsa'} --challenge "<the challenge from the page>"`,
  );
}
