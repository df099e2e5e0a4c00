/**
 * Two accounts hold the same SNILS and passport typed in (allowed while unverified) and both send
 * them to the registry at once: both checks pass the "is the number free" look before either is
 * applied, and the registry approves both. The first applied makes its account the verified owner;
 * the second must end as refused for that reason — it was an unhandled DuplicateKeyError (a 500 at
 * /account/identity). And data saved while the registry is asked is not the data it answered about.
 */
import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { openCabinet } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import type { RegistryVerifier } from '../../src/accounts/registry.ts';
import { saveIdentity, snilsFor } from '../support/identity.ts';
import { createAccount, resetStore } from './fixtures.ts';

describe('levels: two registry approvals of the same numbers at once', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(() => resetStore(h));

  it('one account becomes standard, the other loses the numbers to it — no error', async () => {
    const [a, b] = [await createAccount(h, { phone: '+79120000081' }), await createAccount(h, { phone: '+79120000082' })];
    await saveIdentity(h, a.id);
    await saveIdentity(h, b.id);
    const outcomes = await Promise.allSettled([h.services.levels.requestStandard(a.id), h.services.levels.requestStandard(b.id)]);
    expect(
      outcomes.map((o) => o.status),
      outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : '')).join(),
    ).to.deep.equal(['fulfilled', 'fulfilled']);
    const after = await Promise.all([a.id, b.id].map(async (id) => (await h.services.accounts.findActive(id))!));
    expect(after.map((x) => x.level).sort()).to.deep.equal(['simplified', 'standard']);
    const loser = after.find((x) => x.level === 'simplified')!;
    // The owner's verification takes the numbers away from it (releaseToOwner), the check with them.
    expect(loser.snils, 'the SNILS left with its owner').to.equal(undefined);
    expect(loser.registryCheck?.status ?? 'none').to.be.oneOf(['rejected', 'none']);
    const page = await openCabinet(new Browser(h), '/account/identity', loser === after[0] ? '+79120000081' : '+79120000082');
    expect(page.status).to.equal(200);
  });

  it('data saved while the registry is asked is not what it answered about: no level, nothing verified', async () => {
    const { id } = await createAccount(h, { phone: '+79120000083' });
    await saveIdentity(h, id);
    const registry = (h.services.levels as unknown as { registry: RegistryVerifier }).registry;
    const submit = registry.submit;
    // The registry approves the data sent; meanwhile the citizen saves a SNILS it would reject (999…).
    const unchecked = snilsFor('999144966');
    registry.submit = async (request) => {
      const ticket = await submit.call(registry, request);
      await saveIdentity(h, id, { snils: unchecked });
      return ticket;
    };
    try {
      await h.services.levels.requestStandard(id);
    } finally {
      registry.submit = submit;
    }
    const after = (await h.services.accounts.findActive(id))!;
    expect(after.snils).to.equal(unchecked);
    expect(after.level, 'the approval was about other data').to.equal('simplified');
    expect(after.verifications ?? []).to.have.length(0);
  });
});
