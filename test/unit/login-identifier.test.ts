import { expect } from 'chai';
import { parseLoginIdentifier } from '../../src/accounts/login-identifier.ts';

describe('parseLoginIdentifier', () => {
  it('reads a mobile number in any notation as a phone key', () => {
    for (const input of ['+7 (912) 345-67-89', '89123456789', '9123456789', '7 912 345 67 89']) {
      expect(parseLoginIdentifier(input), input).to.deep.equal({ key: { kind: 'phone', value: '+79123456789' } });
    }
  });

  it('reads an address with @ as an e-mail key, lower-cased', () => {
    expect(parseLoginIdentifier(' Maria.Ivanova@Example.RU ')).to.deep.equal({ key: { kind: 'email', value: 'maria.ivanova@example.ru' } });
  });

  it('reads a SNILS with or without separators', () => {
    for (const input of ['112-233-445 95', '112-233-445-95', '11223344595', '112 233 445 95']) {
      expect(parseLoginIdentifier(input), input).to.deep.equal({ key: { kind: 'snils', value: '11223344595' } });
    }
  });

  it('treats SNILS notation as a SNILS even when its digits could dial a mobile', () => {
    // 891-234-567 26 is a valid SNILS whose 11 digits would also dial 8 912 345-67-26.
    expect(parseLoginIdentifier('891-234-567 26')).to.deep.equal({ key: { kind: 'snils', value: '89123456726' } });
    // Written the SNILS way with wrong check digits: a SNILS problem, not a phone.
    expect(parseLoginIdentifier('891-234-567 89')).to.deep.equal({ problem: 'bad_snils' });
    // The same digits written as a phone are a phone.
    expect(parseLoginIdentifier('8 912 345-67-26')).to.deep.equal({ key: { kind: 'phone', value: '+79123456726' } });
  });

  it('says which part is wrong', () => {
    expect(parseLoginIdentifier('')).to.deep.equal({ problem: 'required' });
    expect(parseLoginIdentifier('   ')).to.deep.equal({ problem: 'required' });
    expect(parseLoginIdentifier(undefined)).to.deep.equal({ problem: 'required' });
    expect(parseLoginIdentifier('ivan@')).to.deep.equal({ problem: 'bad_email' });
    expect(parseLoginIdentifier('112-233-445 96')).to.deep.equal({ problem: 'bad_snils' });
    expect(parseLoginIdentifier('12345678901')).to.deep.equal({ problem: 'bad_snils' });
    expect(parseLoginIdentifier('ivanov')).to.deep.equal({ problem: 'bad_phone' });
    expect(parseLoginIdentifier('8 495 123-45-67')).to.deep.equal({ problem: 'bad_phone' });
  });
});
