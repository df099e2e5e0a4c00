/**
 * An `acr` claim requested as essential (OIDC Core 5.5.1.2) with values vkhod does not have: the
 * request fails back to the service with unmet_authentication_requirements (5.5.1.1: an essential
 * acr that cannot be met is a failed authentication) — before, the sign-in ended with another acr
 * and node-oidc-provider asked for the sign-in again, for ever. Requested as voluntary, unknown
 * values are ignored and the sign-in goes on.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { TEST_REDIRECT } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD, signIn } from '../support/flows.ts';
import { unsupportedEssentialAcr } from '../../src/oidc/request-checks.ts';
import { harnessWithCitizen } from './fixtures.ts';

const PHONE = '+79123450077';
const claims = (acr: Record<string, unknown>, target = 'id_token') => JSON.stringify({ [target]: { acr } });

describe('an essential acr vkhod does not have', function () {
  const harness = harnessWithCitizen(PHONE);

  for (const [name, acr, target] of [
    ['values, in the ID token', { essential: true, values: ['bogus', 'urn:other:loa:2'] }, 'id_token'],
    ['a single value, at userinfo', { essential: true, value: 'http://idmanagement.gov/ns/assurance/loa/4' }, 'userinfo'],
  ] as const) {
    it(`(${name}) goes back to the service with unmet_authentication_requirements and its state, before any sign-in`, async () => {
      const res = await request(harness().url).get(authorizePath({ state: 'st-1', claims: claims(acr, target) }));
      expect(res.status, res.text.slice(0, 200)).to.be.within(302, 303);
      const back = new URL(res.headers.location as string);
      expect(`${back.origin}${back.pathname}`).to.equal(TEST_REDIRECT);
      expect(back.searchParams.get('error')).to.equal('unmet_authentication_requirements');
      expect(back.searchParams.get('state')).to.equal('st-1');
    });
  }

  it('one known value among unknown ones is a request vkhod can meet: the sign-in goes through', async () => {
    const page = await signIn(
      new Browser(harness()),
      PHONE,
      GOOD_PASSWORD,
      authorizePath({ claims: claims({ essential: true, values: ['bogus', 'urn:vkhod:loa:simplified'] }) }),
    );
    expect(page.location).to.match(/[?&]code=/);
  });

  it('unknown values asked as voluntary are ignored: the sign-in goes through', async () => {
    const page = await signIn(new Browser(harness()), PHONE, GOOD_PASSWORD, authorizePath({ claims: claims({ values: ['bogus'] }) }));
    expect(page.location).to.match(/[?&]code=/);
  });

  it('reads only what it must: no claims, no acr, not essential, essential without values', () => {
    expect(unsupportedEssentialAcr(undefined)).to.equal(undefined);
    expect(unsupportedEssentialAcr('{}')).to.equal(undefined);
    expect(unsupportedEssentialAcr({ id_token: { acr: null } })).to.equal(undefined);
    expect(unsupportedEssentialAcr({ id_token: { acr: { essential: false, values: ['x'] } } })).to.equal(undefined);
    expect(unsupportedEssentialAcr({ id_token: { acr: { essential: true } } })).to.equal(undefined);
    expect(unsupportedEssentialAcr({ userinfo: { acr: { essential: true, values: [1, 'x'] } } })).to.deep.equal(['1', 'x']);
  });
});
