import { expect } from 'chai';
import { isMultiFactor, satisfiedAcrs } from '../../src/oidc/acr.ts';

describe('acr and amr for banks and e-signatures', () => {
  it("counts the bank as a first factor: with a code or a passkey of vkhod's it is two factors", () => {
    expect(isMultiFactor(['fed'])).to.equal(false);
    expect(isMultiFactor(['fed', 'pwd']), 'the bank and the password prove the same kind of thing here').to.equal(false);
    expect(isMultiFactor(['fed', 'otp'])).to.equal(true);
    expect(isMultiFactor(['fed', 'sms'])).to.equal(true);
  });

  it("gives a qualified e-signature the -mfa value of the account's level", () => {
    expect(satisfiedAcrs('confirmed', ['sc'])).to.include('urn:vkhod:loa:confirmed-mfa');
    expect(satisfiedAcrs('confirmed', ['fed'])).to.not.include('urn:vkhod:loa:confirmed-mfa');
    expect(satisfiedAcrs('confirmed', ['fed'])).to.include('urn:vkhod:loa:confirmed');
  });
});
