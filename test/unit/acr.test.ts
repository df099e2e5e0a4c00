import { expect } from 'chai';
import { ACR_VALUES, chooseAcr, isKnownAcr, isMultiFactor, requestedAcrs, satisfiedAcrs } from '../../src/oidc/acr.ts';

const A = {
  simplified: 'urn:vkhod:loa:simplified',
  simplifiedMfa: 'urn:vkhod:loa:simplified-mfa',
  standard: 'urn:vkhod:loa:standard',
  standardMfa: 'urn:vkhod:loa:standard-mfa',
  confirmed: 'urn:vkhod:loa:confirmed',
  confirmedMfa: 'urn:vkhod:loa:confirmed-mfa',
} as const;

describe('acr and amr', () => {
  it('advertises the six values of DESIGN §3', () => {
    expect([...ACR_VALUES]).to.have.members(Object.values(A));
    expect(isKnownAcr(A.standard)).to.equal(true);
    expect(isKnownAcr('urn:vkhod:loa:gold')).to.equal(false);
  });

  describe('isMultiFactor', () => {
    it('is true for a password with a second factor of another kind', () => {
      expect(isMultiFactor(['pwd', 'sms'])).to.equal(true);
      expect(isMultiFactor(['pwd', 'otp'])).to.equal(true);
      expect(isMultiFactor(['pwd', 'hwk'])).to.equal(true);
    });
    it('is true for a qualified e-signature, and for a user-verifying passkey', () => {
      expect(isMultiFactor(['sc'])).to.equal(true);
      expect(isMultiFactor(['hwk', 'user'])).to.equal(true);
      expect(isMultiFactor(['swk', 'user'])).to.equal(true);
    });
    it('is false for one factor', () => {
      expect(isMultiFactor(['pwd'])).to.equal(false);
      expect(isMultiFactor(['sms'])).to.equal(false);
      expect(isMultiFactor(['hwk'])).to.equal(false);
      expect(isMultiFactor(['sms', 'otp'])).to.equal(false);
      expect(isMultiFactor([])).to.equal(false);
    });
  });

  describe('satisfiedAcrs', () => {
    it('gives a simplified account with a password only simplified', () => {
      expect(satisfiedAcrs('simplified', ['pwd'])).to.deep.equal([A.simplified]);
    });
    it('adds the -mfa value with a second factor', () => {
      expect(satisfiedAcrs('simplified', ['pwd', 'sms'])).to.deep.equal([A.simplified, A.simplifiedMfa]);
    });
    it('lets a higher level satisfy the lower ones', () => {
      expect(satisfiedAcrs('standard', ['pwd'])).to.deep.equal([A.simplified, A.standard]);
      expect(satisfiedAcrs('confirmed', ['pwd'])).to.deep.equal([A.simplified, A.standard, A.confirmed]);
      expect(satisfiedAcrs('confirmed', ['pwd', 'otp'])).to.deep.equal([...Object.values(A)]);
    });
  });

  describe('requestedAcrs', () => {
    it('reads acr_values in order, ignoring unknown values', () => {
      expect(requestedAcrs({ acr_values: `${A.standard} urn:other:gold ${A.simplified}` })).to.deep.equal([A.standard, A.simplified]);
    });
    it('reads the acr claim of the claims parameter, given as JSON text', () => {
      const claims = JSON.stringify({ id_token: { acr: { values: [A.confirmed, 7] } }, userinfo: { acr: { value: A.standardMfa } } });
      expect(requestedAcrs({ claims })).to.deep.equal([A.confirmed, A.standardMfa]);
    });
    it('reads the claims parameter given as an object, and combines it with acr_values without duplicates', () => {
      expect(
        requestedAcrs({
          acr_values: A.standard,
          claims: { id_token: { acr: { value: A.standard } }, userinfo: { acr: { value: A.simplified } } },
        }),
      ).to.deep.equal([A.standard, A.simplified]);
    });
    it('ignores malformed claims and empty requests', () => {
      expect(requestedAcrs({ claims: '{not json' })).to.deep.equal([]);
      expect(requestedAcrs({ claims: JSON.stringify({ id_token: { acr: { essential: true } } }) })).to.deep.equal([]);
      expect(requestedAcrs({})).to.deep.equal([]);
      expect(requestedAcrs({ acr_values: 42 })).to.deep.equal([]);
    });
  });

  describe('chooseAcr', () => {
    it('picks the highest satisfied value among those requested', () => {
      const satisfied = satisfiedAcrs('standard', ['pwd', 'sms']);
      expect(chooseAcr([A.simplified, A.standard], satisfied)).to.equal(A.standard);
      expect(chooseAcr([A.simplifiedMfa, A.standard], satisfied)).to.equal(A.standard);
      expect(chooseAcr([A.standardMfa, A.simplified], satisfied)).to.equal(A.standardMfa);
    });
    it('never picks a value that was not requested, even if higher', () => {
      expect(chooseAcr([A.simplified], satisfiedAcrs('confirmed', ['pwd', 'otp']))).to.equal(A.simplified);
    });
    it('picks the highest satisfied overall when nothing was requested', () => {
      expect(chooseAcr([], satisfiedAcrs('standard', ['pwd']))).to.equal(A.standard);
      expect(chooseAcr([], satisfiedAcrs('simplified', ['pwd', 'otp']))).to.equal(A.simplifiedMfa);
    });
    it('is undefined when no requested value is satisfied', () => {
      expect(chooseAcr([A.confirmed, A.standardMfa], satisfiedAcrs('standard', ['pwd']))).to.equal(undefined);
    });
  });
});
