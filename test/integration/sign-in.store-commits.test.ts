/**
 * What a sign-in costs the embedded store (issue 15): writes that do not depend on each other are
 * asked for in the same turn, so the group commit stores them in one transaction (one WAL commit,
 * one disk sync for the durable ones) instead of one after another.
 */
import { expect } from 'chai';
import type { SqliteStore } from '../../adapters/sqlite/index.ts';
import type { AuditEvent } from '../../src/store.ts';
import { Browser } from '../support/browser.ts';
import { GOOD_PASSWORD, signIn } from '../support/flows.ts';
import { harnessWithCitizen } from './fixtures.ts';

const PHONE = '+79123450001';

describe('a sign-in and the store commits it costs', function () {
  const harness = harnessWithCitizen(PHONE);

  it("the sign-in's audit event goes in the same transaction as the interaction's result", async () => {
    const h = harness();
    const store = h.services.store as SqliteStore;
    // The store's commit count when each write was asked for.
    const asked: Array<{ what: string; commits: number }> = [];
    const audit = store.audit as { append: (event: AuditEvent) => Promise<unknown> };
    const interactions = store.oidcAdapter('Interaction') as { upsert: (...args: unknown[]) => Promise<unknown> };
    const [append, upsert] = [audit.append, interactions.upsert];
    audit.append = function (this: unknown, event: AuditEvent) {
      if (event.type === 'signin') asked.push({ what: `audit ${event.outcome}`, commits: store.writes.commits });
      return append.call(this, event);
    };
    interactions.upsert = function (this: unknown, ...args: unknown[]) {
      const payload = args[1] as { result?: { login?: unknown } };
      if (payload.result?.login) asked.push({ what: 'interaction result', commits: store.writes.commits });
      return upsert.apply(this, args);
    };
    try {
      const page = await signIn(new Browser(h), PHONE, GOOD_PASSWORD);
      expect(page.location, 'signed in').to.match(/[?&]code=/);
    } finally {
      audit.append = append;
      interactions.upsert = upsert;
    }
    // (node-oidc-provider writes the interaction once more when /auth resumes; that one comes later)
    expect(asked.slice(0, 2).map((a) => a.what)).to.deep.equal(['audit success', 'interaction result']);
    expect(asked[1]!.commits, 'no commit between the two writes').to.equal(asked[0]!.commits);
  });
});
