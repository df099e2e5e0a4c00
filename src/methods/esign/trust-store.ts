/**
 * The trusted certificate authorities and revocation lists, read from files (a PEM/DER file or a
 * directory of them). Read again whenever a file changes, so a new CA or a fresh CRL needs no
 * restart. Only CA certificates become trust anchors; anything unreadable is logged and skipped.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Logger } from 'pino';
import * as pkijs from 'pkijs';
import { isCa, nameText } from './certificate.ts';

export interface TrustMaterial {
  anchors: pkijs.Certificate[];
  crls: pkijs.CertificateRevocationList[];
}

const CERT_EXTENSIONS = new Set(['.pem', '.crt', '.cer', '.der']);
const CRL_EXTENSIONS = new Set(['.crl', '.pem']);

/** The DER bodies of the PEM blocks with one of `labels`, or the whole file when it is DER. */
export function pemBodies(data: Buffer, ...labels: string[]): Uint8Array<ArrayBuffer>[] {
  const text = data.toString('latin1');
  if (!text.includes('-----BEGIN')) return data[0] === 0x30 ? [new Uint8Array(data)] : [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  return [...text.matchAll(re)]
    .filter((m) => labels.includes(m[1]!))
    .map((m) => new Uint8Array(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64')));
}

function filesOf(path: string | undefined, extensions: Set<string>): string[] {
  if (!path) return [];
  try {
    const stat = statSync(path);
    if (stat.isFile()) return [path];
    if (!stat.isDirectory()) return [];
    return readdirSync(path)
      .filter((f) => extensions.has(extname(f).toLowerCase()))
      .sort()
      .map((f) => join(path, f));
  } catch {
    return [];
  }
}

/** Changes when a file is added, removed or rewritten. */
function signature(files: string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${f}:${s.mtimeMs}:${s.size}`;
      } catch {
        return `${f}:gone`;
      }
    })
    .join('|');
}

export class TrustStore {
  private cached?: { signature: string; material: TrustMaterial };

  constructor(
    private readonly caPath: string | undefined,
    private readonly crlPath: string | undefined,
    private readonly logger?: Logger,
  ) {}

  current(): TrustMaterial {
    const caFiles = filesOf(this.caPath, CERT_EXTENSIONS);
    const crlFiles = filesOf(this.crlPath, CRL_EXTENSIONS);
    const sig = `${signature(caFiles)}#${signature(crlFiles)}`;
    if (this.cached?.signature === sig) return this.cached.material;
    const material: TrustMaterial = { anchors: [], crls: [] };
    for (const file of caFiles) {
      try {
        for (const der of pemBodies(readFileSync(file), 'CERTIFICATE')) {
          const cert = pkijs.Certificate.fromBER(der);
          if (isCa(cert)) material.anchors.push(cert);
          else if (statSync(this.caPath!).isFile())
            this.logger?.warn({ file, subject: nameText(cert.subject) }, 'not a CA certificate: not trusted');
        }
      } catch (err) {
        this.logger?.warn({ file, err: (err as Error).message }, 'unreadable certificate file skipped');
      }
    }
    for (const file of crlFiles) {
      try {
        for (const der of pemBodies(readFileSync(file), 'X509 CRL', 'CRL'))
          material.crls.push(pkijs.CertificateRevocationList.fromBER(der));
      } catch (err) {
        this.logger?.warn({ file, err: (err as Error).message }, 'unreadable CRL file skipped');
      }
    }
    if (!material.anchors.length) this.logger?.warn({ path: this.caPath }, 'no trusted CA certificates: every e-signature will be refused');
    this.cached = { signature: sig, material };
    return material;
  }
}
