/**
 * GOST fixtures made by an independent implementation: OpenSSL 3 with Debian's GOST engine
 * (libengine-gost-openssl; `.ci/run` installs it). A GOST PKI in a temp folder — a root CA with a
 * 512-bit key, an intermediate CA with a 256-bit key that the root signed, citizens' certificates
 * for every standard parameter set, an expired one, a revoked one (in the intermediate's CRL), and
 * one from a CA that is not trusted — and detached or attached CMS signatures made by `openssl cms`.
 * Tests that need it call `skipWithoutGostEngine(this)`, which says so in the test report.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let available: boolean | undefined;

/** True when `openssl` has the GOST engine. */
export function gostEngineAvailable(): boolean {
  if (available === undefined) {
    const out = spawnSync('openssl', ['engine', '-t', 'gost'], { encoding: 'utf8' });
    available = out.status === 0 && out.stdout.includes('[ available ]');
  }
  return available;
}

/** In a mocha `before`/`it`: skips (visibly: "pending") when the GOST engine is missing. */
export function skipWithoutGostEngine(context: Mocha.Context): void {
  if (gostEngineAvailable()) return;
  console.warn('    (skipped: OpenSSL GOST engine not installed — apt-get install libengine-gost-openssl)');
  context.skip();
}

export function openssl(args: string[], input?: Buffer | string): Buffer {
  const out = spawnSync('openssl', args, { input });
  if (out.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${out.stderr.toString()}`);
  return out.stdout;
}

/** The 256-bit parameter sets as the engine names them, with their OIDs; then the 512-bit ones. */
export const PARAM_SETS_256: Array<[string, string]> = [
  ['A', '1.2.643.2.2.35.1'],
  ['B', '1.2.643.2.2.35.2'],
  ['C', '1.2.643.2.2.35.3'],
  ['XA', '1.2.643.2.2.36.0'],
  ['XB', '1.2.643.2.2.36.1'],
  ['TCA', '1.2.643.7.1.2.1.1.1'],
  ['TCB', '1.2.643.7.1.2.1.1.2'],
  ['TCC', '1.2.643.7.1.2.1.1.3'],
  ['TCD', '1.2.643.7.1.2.1.1.4'],
];
export const PARAM_SETS_512: Array<[string, string]> = [
  ['A', '1.2.643.7.1.2.1.2.1'],
  ['B', '1.2.643.7.1.2.1.2.2'],
  ['C', '1.2.643.7.1.2.1.2.3'],
];

export interface GostSubject {
  family: string;
  given: string;
  snils?: string;
  inn?: string;
  organization?: string;
  ogrn?: string;
  innLe?: string;
}

export interface OpensslCitizen {
  cert: string;
  key: string;
  certificatePem: string;
  privateKeyPem: string;
  /** upper-case hex */
  serial: string;
  bits: 256 | 512;
}

const E = ['-engine', 'gost'];

function subjectOf(s: GostSubject): string {
  const esc = (v: string) => v.replace(/([/=+])/g, '\\$1');
  return [
    'C=RU',
    `SN=${esc(s.family)}`,
    `GN=${esc(s.given)}`,
    `CN=${esc(`${s.family} ${s.given}`)}`,
    ...(s.organization ? [`O=${esc(s.organization)}`] : []),
    ...(s.ogrn ? [`OGRN=${s.ogrn}`] : []),
    ...(s.innLe ? [`INNLE=${s.innLe}`] : []),
    ...(s.snils ? [`SNILS=${s.snils}`] : []),
    ...(s.inn ? [`INN=${s.inn}`] : []),
  ]
    .map((p) => `/${p}`)
    .join('');
}

function opensslDate(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** One CA run by `openssl ca` in its own folder. */
class OpensslCa {
  readonly cert: string;
  readonly key: string;
  private readonly conf: string;
  private count = 0;

  constructor(
    private readonly dir: string,
    readonly name: string,
    algorithm: 'gost2012_256' | 'gost2012_512',
    paramSet: string,
    readonly md: string,
    parent?: OpensslCa,
  ) {
    this.key = join(dir, `${name}.key`);
    this.cert = join(dir, `${name}.pem`);
    const home = join(dir, name);
    openssl(['genpkey', ...E, '-algorithm', algorithm, '-pkeyopt', `paramset:${paramSet}`, '-out', this.key]);
    mkdirSync(join(home, 'new'), { recursive: true });
    writeFileSync(join(home, 'index.txt'), '');
    writeFileSync(join(home, 'crlnumber'), '01\n');
    this.conf = join(home, 'ca.cnf');
    writeFileSync(
      this.conf,
      [
        // OpenSSL 3.0 does not know the INN of a legal entity by name
        'oid_section = new_oids',
        '[ new_oids ]',
        'INNLE = 1.2.643.100.4',
        '[ ca ]',
        'default_ca = this',
        '[ this ]',
        `dir = ${home}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir/new',
        'serial = $dir/serial',
        'crlnumber = $dir/crlnumber',
        'policy = any',
        'unique_subject = no',
        'default_crl_days = 30',
        'default_days = 365',
        `default_md = ${md}`,
        '[ any ]',
        'commonName = supplied',
        '[ citizen ]',
        'keyUsage = critical, digitalSignature, nonRepudiation',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '1.2.643.100.111 = ASN1:UTF8String:CryptoPro CSP (test)',
        '[ encipher ]',
        'keyUsage = critical, keyEncipherment',
        '[ ca_ext ]',
        'basicConstraints = critical, CA:TRUE',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    );
    writeFileSync(join(home, 'serial'), `${(parent ? 2000 : 1000) + Math.floor(Math.random() * 1000)}01\n`);
    const subj = `/C=RU/O=Тест ГОСТ/CN=${name}`;
    if (!parent) {
      openssl([
        'req',
        ...E,
        '-x509',
        '-new',
        '-utf8',
        '-key',
        this.key,
        '-subj',
        subj,
        '-days',
        '3650',
        `-${md}`,
        '-config',
        this.conf,
        '-extensions',
        'ca_ext',
        '-out',
        this.cert,
      ]);
    } else {
      const csr = join(home, 'ca.csr');
      openssl(['req', ...E, '-new', '-utf8', '-key', this.key, '-subj', subj, '-config', this.conf, '-out', csr]);
      parent.sign(csr, this.cert, { extensions: 'ca_ext', days: 3000 });
    }
  }

  sign(csr: string, out: string, options: { extensions?: string; days?: number; notBefore?: Date; notAfter?: Date } = {}): void {
    const dates = options.notAfter
      ? ['-startdate', opensslDate(options.notBefore ?? new Date(Date.now() - 86400_000)), '-enddate', opensslDate(options.notAfter)]
      : ['-days', String(options.days ?? 365)];
    openssl([
      'ca',
      ...E,
      '-batch',
      '-utf8',
      '-preserveDN',
      '-config',
      this.conf,
      '-cert',
      this.cert,
      '-keyfile',
      this.key,
      '-md',
      this.md,
      '-extensions',
      options.extensions ?? 'citizen',
      ...dates,
      '-in',
      csr,
      '-out',
      out,
    ]);
  }

  issue(
    person: GostSubject,
    options: {
      algorithm?: 'gost2012_256' | 'gost2012_512';
      paramSet?: string;
      extensions?: string;
      notBefore?: Date;
      notAfter?: Date;
    } = {},
  ): OpensslCitizen {
    this.count += 1;
    const base = join(this.dir, `${this.name}-citizen-${this.count}`);
    openssl([
      'genpkey',
      ...E,
      '-algorithm',
      options.algorithm ?? 'gost2012_256',
      '-pkeyopt',
      `paramset:${options.paramSet ?? 'A'}`,
      '-out',
      `${base}.key`,
    ]);
    openssl(['req', ...E, '-new', '-utf8', '-key', `${base}.key`, '-subj', subjectOf(person), '-config', this.conf, '-out', `${base}.csr`]);
    this.sign(`${base}.csr`, `${base}.pem`, options);
    const serial = openssl(['x509', '-in', `${base}.pem`, '-noout', '-serial'])
      .toString()
      .trim()
      .replace(/^serial=/, '');
    return {
      cert: `${base}.pem`,
      key: `${base}.key`,
      certificatePem: readFileSync(`${base}.pem`, 'utf8'),
      privateKeyPem: readFileSync(`${base}.key`, 'utf8'),
      serial: serial.toUpperCase(),
      bits: options.algorithm === 'gost2012_512' ? 512 : 256,
    };
  }

  revoke(cert: string): void {
    openssl(['ca', ...E, '-config', this.conf, '-cert', this.cert, '-keyfile', this.key, '-md', this.md, '-revoke', cert]);
  }

  crl(out: string): void {
    openssl(['ca', ...E, '-gencrl', '-config', this.conf, '-cert', this.cert, '-keyfile', this.key, '-md', this.md, '-out', out]);
  }
}

export interface OpensslGostPki {
  /** the folder vkhod trusts (root.pem) and reads CRLs from (sub.crl) */
  trustDir: string;
  root: OpensslCa;
  /** the intermediate CA that issues citizens' certificates; signatures include its certificate */
  sub: OpensslCa;
  /** a CA with the same kind of name that vkhod does not trust */
  stranger: OpensslCa;
  /** writes the intermediate's CRL into the trust folder */
  publishCrl(): void;
  /** a detached (or attached) CMS signature of `content` by `signer`, DER */
  sign(
    signer: OpensslCitizen,
    content: Buffer | string,
    options?: { noAttributes?: boolean; attached?: boolean; md?: string; chain?: boolean },
  ): Buffer;
  close(): void;
}

/** The GOST PKI above, made by OpenSSL in a temp folder (a few seconds). */
export function makeOpensslGostPki(): OpensslGostPki {
  const dir = mkdtempSync(join(tmpdir(), 'vkhod-gost-'));
  const trustDir = join(dir, 'trust');
  mkdirSync(trustDir, { recursive: true });
  const root = new OpensslCa(dir, 'root', 'gost2012_512', 'A', 'md_gost12_512');
  const sub = new OpensslCa(dir, 'sub', 'gost2012_256', 'TCB', 'md_gost12_256', root);
  const stranger = new OpensslCa(dir, 'stranger', 'gost2012_256', 'A', 'md_gost12_256');
  writeFileSync(join(trustDir, 'root.pem'), readFileSync(root.cert));
  const pki: OpensslGostPki = {
    trustDir,
    root,
    sub,
    stranger,
    publishCrl() {
      sub.crl(join(trustDir, 'sub.crl'));
    },
    sign(signer, content, options = {}) {
      const input = join(dir, 'content.bin');
      writeFileSync(input, content);
      const md = options.md ?? (signer.bits === 512 ? 'md_gost12_512' : 'md_gost12_256');
      return openssl([
        'cms',
        ...E,
        '-sign',
        '-binary',
        '-md',
        md,
        '-signer',
        signer.cert,
        '-inkey',
        signer.key,
        '-in',
        input,
        '-outform',
        'DER',
        ...(options.noAttributes ? ['-noattr'] : []),
        ...(options.attached ? ['-nodetach'] : []),
        ...(options.chain === false ? [] : ['-certfile', sub.cert]),
      ]);
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  pki.publishCrl();
  return pki;
}

/** OpenSSL's verdict on a detached CMS signature `sig` of `content`, trusting `caFile`. */
export function opensslVerifies(sig: Buffer | Uint8Array, content: Buffer | string, caFile: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'vkhod-gost-verify-'));
  try {
    writeFileSync(join(dir, 'sig.der'), sig);
    writeFileSync(join(dir, 'content'), content);
    const out = spawnSync('openssl', [
      'cms',
      ...E,
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      join(dir, 'sig.der'),
      '-content',
      join(dir, 'content'),
      '-CAfile',
      caFile,
      '-out',
      '/dev/null',
    ]);
    return out.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
