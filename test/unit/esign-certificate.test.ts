import { expect } from 'chai';
import * as pkijs from 'pkijs';
import {
  certificateOrganisation,
  certificatePerson,
  allowsSigning,
  isCa,
  signTools,
  validLegalInn,
  validOgrn,
} from '../../src/methods/esign/certificate.ts';
import { issueGostCitizen, createGostCa } from '../../scripts/esign/gost-ca.ts';
import { decodeSignature } from '../../src/methods/esignature.ts';
import { createCa, issueCitizen, KeyUsage } from '../../scripts/esign/test-ca.ts';

describe('reading a qualified certificate', () => {
  it('takes SNILS and INN (NumericString), the surname and "Имя Отчество" from the subject', async () => {
    const ca = await createCa();
    const { certificate } = await issueCitizen(
      ca,
      { family: 'Морозова', given: 'Елена Игоревна', snils: '19876543247', inn: '500345678979' },
      { kind: 'ecdsa' },
    );
    const cert = pkijs.Certificate.fromBER(certificate.rawData);
    expect(certificatePerson(cert)).to.deep.equal({
      snils: '19876543247',
      inn: '500345678979',
      name: { family: 'Морозова', given: 'Елена', middle: 'Игоревна' },
    });
    expect(allowsSigning(cert)).to.equal(true);
    expect(isCa(cert)).to.equal(false);
    expect(isCa(pkijs.Certificate.fromBER(ca.certificate.rawData))).to.equal(true);
  });

  it("ignores a SNILS with wrong check digits and a legal entity's 10-digit INN; knows a key that may not sign", async () => {
    const ca = await createCa();
    const { certificate } = await issueCitizen(
      ca,
      { family: 'Морозова', given: 'Елена', snils: '19876543248', inn: '7701234567' },
      { kind: 'ecdsa', keyUsage: KeyUsage.keyEncipherment },
    );
    const cert = pkijs.Certificate.fromBER(certificate.rawData);
    expect(certificatePerson(cert)).to.deep.equal({ name: { family: 'Морозова', given: 'Елена' } });
    expect(allowsSigning(cert)).to.equal(false);
  });

  it('decodes a signature from a DER file, a Base64 or PEM file, or pasted Base64 with line breaks', () => {
    const der = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]);
    const b64 = der.toString('base64');
    expect(decodeSignature({ file: der })).to.deep.equal(new Uint8Array(der));
    expect(decodeSignature({ file: Buffer.from(`-----BEGIN PKCS7-----\n${b64}\n-----END PKCS7-----\n`) })).to.deep.equal(
      new Uint8Array(der),
    );
    expect(decodeSignature({ text: `  ${b64.slice(0, 4)}\r\n${b64.slice(4)}  ` })).to.deep.equal(new Uint8Array(der));
    expect(decodeSignature({ text: 'не подпись' })).to.equal(undefined);
    expect(decodeSignature({ text: Buffer.from('hello').toString('base64') }), 'Base64 of something that is not DER').to.equal(undefined);
    expect(decodeSignature({})).to.equal(undefined);
  });

  it("an employee's certificate: the person as a person, and the organisation (name, OGRN, INN of the legal entity) beside it; check digits are checked", async () => {
    const ca = await createCa();
    const employee = {
      family: 'Морозова',
      given: 'Елена Игоревна',
      snils: '19876543247',
      inn: '500345678979',
      organization: 'ПАО Сбербанк',
      ogrn: '1027700132195',
      innLe: '7707083893',
    };
    const cert = pkijs.Certificate.fromBER((await issueCitizen(ca, employee, { kind: 'ecdsa' })).certificate.rawData);
    expect(certificatePerson(cert)).to.deep.equal({
      snils: '19876543247',
      inn: '500345678979',
      name: { family: 'Морозова', given: 'Елена', middle: 'Игоревна' },
    });
    expect(certificateOrganisation(cert)).to.deep.equal({ name: 'ПАО Сбербанк', ogrn: '1027700132195', inn: '7707083893' });
    const bad = pkijs.Certificate.fromBER(
      (await issueCitizen(ca, { ...employee, ogrn: '1027700132196', innLe: '7707083894' }, { kind: 'ecdsa' })).certificate.rawData,
    );
    expect(certificateOrganisation(bad), 'wrong check digits').to.equal(undefined);
    const person = pkijs.Certificate.fromBER(
      (await issueCitizen(ca, { family: 'Морозова', given: 'Елена', snils: '19876543247' }, { kind: 'ecdsa' })).certificate.rawData,
    );
    expect(certificateOrganisation(person), "a private person's certificate").to.equal(undefined);
    expect(validOgrn('304500116000157', 15), 'OGRNIP').to.equal('304500116000157');
    expect(validOgrn('304500116000158', 15)).to.equal(undefined);
    expect(validLegalInn('007707083893'), 'the old "00" + 10 digits form').to.equal('7707083893');
  });

  it('reads the signing tools a qualified certificate names (1.2.643.100.111 and 112)', () => {
    const ca = createGostCa();
    const citizen = issueGostCitizen(ca, { family: 'Петров', given: 'Иван', snils: '11223344595' });
    expect(signTools(citizen.certificate)).to.deep.equal({
      subject: 'vkhod test signing tool (not certified)',
      issuer: ['vkhod test CA tool', 'vkhod test CA (not accredited)', 'no certificate of conformity', 'no certificate of conformity'],
    });
    expect(signTools(ca.certificate)).to.equal(undefined);
  });
});
