/**
 * CRLs fetched from a certificate's distribution point (VKHOD_ESIGN_CRL_FETCH, off by default):
 * a revoked certificate is refused, the CRL is cached (one download for many sign-ins), an
 * unreachable or silent distribution point gives "revocation unknown" rather than a pass, a forged
 * CRL does not count, and with fetching off the distribution point is never contacted.
 * GOST certificates of vkhod's development CA; a local HTTP server plays the CA's CRL site.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CrlFetcher, distributionPoints } from '../../src/methods/esign/crl-fetch.ts';
import { TrustStore } from '../../src/methods/esign/trust-store.ts';
import { EsignError } from '../../src/methods/esign/errors.ts';
import { CmsVerifier } from '../../src/methods/esign/verify.ts';
import { createGostCa, createGostCrl, issueGostCitizen, type GostIssued } from '../../scripts/esign/gost-ca.ts';
import { signCms } from '../../scripts/esign/sign.ts';

const IVAN = { family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703' };
const TEXT = 'vkhod:127.0.0.1:3000:crl-fetch-challenge-0123456789abcdef';

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (err) {
    if (err instanceof EsignError) return err.code;
    throw err;
  }
}

describe('CRLs from the distribution point (optional fetching)', () => {
  let server: Server;
  let base: string;
  let dir: string;
  let ca: GostIssued;
  let crlPem = '';
  let hits = 0;
  let mode: 'serve' | 'silent' | 'error' = 'serve';

  before(async () => {
    server = createServer((req, res) => {
      hits += 1;
      if (mode === 'silent') return; // never answers: the timeout must end it
      if (mode === 'error') {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crlPem);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'vkhod-crl-fetch-'));
    ca = createGostCa({ paramSet: 'tc26-256-A' });
    writeFileSync(join(dir, 'ca.pem'), ca.pem);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    hits = 0;
    mode = 'serve';
    crlPem = createGostCrl(ca, []);
  });

  const citizen = (path: string) => issueGostCitizen(ca, IVAN, { crlUrl: `${base}${path}` });
  const sign = async (c: GostIssued) => signCms({ content: Buffer.from(TEXT), certificatePem: c.pem, privateKeyPem: c.keyPem });
  const verifier = (fetcher?: CrlFetcher) => new CmsVerifier(new TrustStore(dir, undefined), undefined, fetcher);

  it('reads the distribution point from the certificate', () => {
    expect(distributionPoints(citizen('/ca.crl').certificate)).to.deep.equal([`${base}/ca.crl`]);
  });

  it('refuses a certificate the fetched CRL revokes; accepts the others; downloads the CRL once and keeps it', async () => {
    const good = citizen('/a.crl');
    const revoked = citizen('/a.crl');
    crlPem = createGostCrl(ca, [revoked.serialNumber]);
    const v = verifier(new CrlFetcher({ timeoutMs: 2000, cacheSeconds: 600 }));
    expect(await outcome(v.verify(await sign(revoked), [Buffer.from(TEXT)]))).to.equal('revoked');
    expect(await outcome(v.verify(await sign(good), [Buffer.from(TEXT)]))).to.equal('accepted');
    expect(await outcome(v.verify(await sign(good), [Buffer.from(TEXT)]))).to.equal('accepted');
    expect(hits, 'cached after the first download').to.equal(1);
  });

  it('a distribution point that does not answer in time, or fails, gives "revocation unknown", not a pass', async () => {
    mode = 'silent';
    const c = citizen('/silent.crl');
    expect(
      await outcome(verifier(new CrlFetcher({ timeoutMs: 300, cacheSeconds: 600 })).verify(await sign(c), [Buffer.from(TEXT)])),
    ).to.equal('revocation_unknown');
    mode = 'error';
    const d = citizen('/error.crl');
    expect(
      await outcome(verifier(new CrlFetcher({ timeoutMs: 2000, cacheSeconds: 600 })).verify(await sign(d), [Buffer.from(TEXT)])),
    ).to.equal('revocation_unknown');
  });

  it('a CRL signed by another key does not count (nor revokes)', async () => {
    const c = citizen('/forged.crl');
    const impostor = createGostCa({ paramSet: 'tc26-256-A' });
    impostor.certificate.subject = ca.certificate.subject;
    crlPem = createGostCrl(impostor, [c.serialNumber]);
    expect(
      await outcome(verifier(new CrlFetcher({ timeoutMs: 2000, cacheSeconds: 600 })).verify(await sign(c), [Buffer.from(TEXT)])),
    ).to.equal('revocation_unknown');
  });

  it('off by default: the distribution point is never contacted', async () => {
    const c = citizen('/off.crl');
    crlPem = createGostCrl(ca, [c.serialNumber]);
    expect(await outcome(verifier().verify(await sign(c), [Buffer.from(TEXT)]))).to.equal('accepted');
    expect(hits).to.equal(0);
  });

  it('a CRL file for the issuer is used instead of fetching', async () => {
    const c = citizen('/file.crl');
    const crlDir = mkdtempSync(join(tmpdir(), 'vkhod-crl-file-'));
    try {
      writeFileSync(join(crlDir, 'ca.crl'), createGostCrl(ca, [c.serialNumber]));
      const v = new CmsVerifier(new TrustStore(dir, crlDir), undefined, new CrlFetcher({ timeoutMs: 2000, cacheSeconds: 600 }));
      expect(await outcome(v.verify(await sign(c), [Buffer.from(TEXT)]))).to.equal('revoked');
      expect(hits).to.equal(0);
    } finally {
      rmSync(crlDir, { recursive: true, force: true });
    }
  });
});
