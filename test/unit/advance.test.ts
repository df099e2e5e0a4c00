import { expect } from 'chai';
import type { Context } from 'koa';
import { advance, decide } from '../../src/flows/sign-in/advance.ts';
import type { InteractionDetails } from '../../src/flows/interaction/context.ts';
import { combineAmr, satisfiableWith } from '../../src/oidc/acr.ts';
import type { Services } from '../../src/services.ts';
import type { Account } from '../../src/store.ts';

const L = 'urn:vkhod:loa:';
const account = (over: Partial<Account> = {}): Account =>
  ({ id: 'a1', level: 'standard', name: { family: 'Иванов', given: 'Иван' }, ...over }) as Account;
const details = (params: Record<string, unknown> = {}, session?: Record<string, unknown>) =>
  ({ uid: 'u1', params: { client_id: 'rp', ...params }, session }) as unknown as InteractionDetails;
const config = { requireSecondFactor: false };

describe('advance: what happens after the first factor', () => {
  describe('decide', () => {
    it('completes a password sign-in that meets what was asked, with the acr earned', () => {
      const d = decide(config, details({ acr_values: `${L}standard` }), account(), ['pwd']);
      expect(d).to.deep.equal({ step: 'complete', requested: [`${L}standard`], acr: `${L}standard` });
    });
    it('asks a second factor when an -mfa acr is asked that one more factor would meet', () => {
      expect(decide(config, details({ acr_values: `${L}standard-mfa` }), account({ totp: {} as never }), ['pwd']).step).to.equal(
        'second_factor',
      );
    });
    it('asks to enrol a factor when one is wanted and the account has none', () => {
      expect(decide(config, details({ acr_values: `${L}standard-mfa` }), account(), ['pwd']).step).to.equal('enrol');
      expect(
        decide({ requireSecondFactor: true }, details(), account({ phone: '+79990000000', phoneVerified: true }), ['pwd']).step,
        'the login phone is not an enrolled factor',
      ).to.equal('enrol');
    });
    it('asks the citizen’s own second factor when they turned it on', () => {
      expect(decide(config, details(), account({ totp: {} as never, mfa: { enabled: true } }), ['pwd']).step).to.equal('second_factor');
    });
    it('asks a second factor when renewing a session that had two (no silent downgrade)', () => {
      const d = details({}, { accountId: 'a1', amr: ['pwd', 'otp', 'mfa'] });
      expect(decide(config, d, account({ totp: {} as never }), ['pwd']).step).to.equal('second_factor');
      expect(
        decide(config, details({}, { accountId: 'other', amr: ['pwd', 'otp', 'mfa'] }), account({ totp: {} as never }), ['pwd']).step,
      ).to.equal('complete');
    });
    it('is unmet when the level is too low, whatever factor comes next', () => {
      expect(decide(config, details({ acr_values: `${L}confirmed` }), account(), ['pwd'])).to.include({ step: 'unmet', acr: undefined });
    });
    it('is unmet for a possession-only passkey asked for -mfa: another possession factor does not make two', () => {
      expect(decide(config, details({ acr_values: `${L}standard-mfa` }), account({ totp: {} as never }), ['hwk']).step).to.equal('unmet');
    });
    it('does not ask a second factor of a first factor that counts as two, unless told the citizen’s own applies', () => {
      const acc = account({ level: 'confirmed', totp: {} as never, mfa: { enabled: true } });
      expect(decide(config, details(), acc, ['sc', 'mfa', 'pwd']).step).to.equal('complete');
      expect(decide(config, details(), acc, ['sc', 'mfa', 'pwd'], { ownSecondFactorAlways: true }).step).to.equal('second_factor');
      expect(
        decide(config, details(), account({ level: 'confirmed' }), ['sc', 'mfa', 'pwd'], { ownSecondFactorAlways: true }).step,
        'only when turned on',
      ).to.equal('complete');
    });
  });

  describe('advance', () => {
    function fakes() {
      const calls: string[] = [];
      const saved: Record<string, unknown> = {};
      const services = {
        config,
        limits: { reset: async (rule: string, key: string) => void calls.push(`reset ${rule} ${key}`) },
        audit: { record: async (e: { outcome: string }) => void calls.push(`audit ${e.outcome}`) },
        store: {
          oidcAdapter: () => ({
            upsert: async (id: string, v: unknown) => void (saved[id] = v),
            destroy: async (id: string) => void calls.push(`destroy ${id}`),
          }),
        },
        provider: {
          interactionResult: async (_req: unknown, _res: unknown, result: { login: { acr: string } }) => (
            calls.push(`login ${result.login.acr}`),
            '/auth/u1'
          ),
        },
        views: { render: () => void calls.push('render'), t: (_: unknown, k: string) => k, locale: () => 'ru' },
        bank: { list: () => [] },
        esignature: { enabled: false },
      } as unknown as Services;
      const ctx = {
        ip: '127.0.0.1',
        status: 404,
        body: undefined as unknown,
        location: '',
        redirect(this: { location: string }, to: string) {
          this.location = to;
        },
        state: { csrf: () => 'x' },
        get: () => '',
      } as unknown as Context & { location: string };
      return { services, ctx, calls, saved };
    }
    const signIn = (acc: Account, amr: string[]) => ({ account: acc, amr, remember: true, method: 'password' });

    it('finishes with one login result and one audit record', async () => {
      const { services, ctx, calls } = fakes();
      expect(await advance(services, ctx, details(), signIn(account(), ['pwd']))).to.equal('complete');
      expect(calls).to.deep.equal(['audit success', `login ${L}standard`]);
      expect(ctx.status).to.equal(303);
    });
    it('keeps a sign-in owing a second factor pending, with the contact it proved, and sends it to the second step', async () => {
      const { services, ctx, calls, saved } = fakes();
      expect(
        await advance(services, ctx, details({ acr_values: `${L}standard-mfa` }), signIn(account({ totp: {} as never }), ['pwd']), {
          contactProven: 'sms',
          forgetFailures: true,
        }),
      ).to.equal('second_factor');
      expect(saved['mfa.u1']).to.deep.include({ accountId: 'a1', amr: ['pwd'], contactProven: 'sms' });
      expect(calls, 'failures are forgotten only by the second factor').to.deep.equal([]);
      expect((ctx as unknown as { location: string }).location).to.equal('/interaction/u1/mfa');
    });
    it('answers JSON for a script-driven first factor', async () => {
      const { services, ctx } = fakes();
      await advance(services, ctx, details({ acr_values: `${L}standard-mfa` }), signIn(account(), ['pwd']), { mode: 'json' });
      expect(ctx.body).to.deep.equal({ redirect: '/interaction/u1/mfa/enrol' });
      expect(ctx.status).to.equal(200);
    });
    it('forgets earlier failures when no second factor follows, and discards the pending sign-in when asked', async () => {
      const { services, ctx, calls } = fakes();
      await advance(services, ctx, details(), signIn(account(), ['pwd']), { forgetFailures: true, discardPendingOnComplete: true });
      expect(calls).to.deep.equal(['reset login-failures-account account:a1', 'destroy mfa.u1', 'audit success', `login ${L}standard`]);
    });
    it('keeps an unmet sign-in pending and explains', async () => {
      const { services, ctx, calls, saved } = fakes();
      expect(await advance(services, ctx, details({ acr_values: `${L}confirmed` }), signIn(account(), ['pwd']))).to.equal('unmet');
      expect(saved['mfa.u1']).to.deep.include({ unmet: true });
      expect(calls).to.deep.equal(['audit failure', 'render']);
    });
  });
});

describe('combineAmr', () => {
  it('adds mfa for two kinds, once, whatever the inputs carried', () => {
    expect(combineAmr(['pwd'], ['otp'])).to.deep.equal(['pwd', 'otp', 'mfa']);
    expect(combineAmr(['pwd', 'mfa'], ['sms', 'mfa'])).to.deep.equal(['pwd', 'sms', 'mfa']);
    expect(combineAmr(['fed'], ['hwk'])).to.deep.equal(['fed', 'hwk', 'mfa']);
  });
  it('does not add mfa for two of one kind, and keeps each value once', () => {
    expect(combineAmr(['hwk'], ['otp'])).to.deep.equal(['hwk', 'otp']);
    expect(combineAmr(['fed'], ['pwd'])).to.deep.equal(['fed', 'pwd']);
    expect(combineAmr(['pwd'], ['pwd'])).to.deep.equal(['pwd']);
  });
  it('keeps an e-signature multi-factor with a password added', () => {
    expect(combineAmr(['sc', 'mfa'], ['pwd'])).to.deep.equal(['sc', 'pwd', 'mfa']);
  });
});

describe('satisfiableWith', () => {
  it('without amr: everything the level allows', () => {
    expect(satisfiableWith('simplified')).to.deep.equal([`${L}simplified`, `${L}simplified-mfa`]);
    expect(satisfiableWith('confirmed')).to.have.length(6);
  });
  it('with amr: what one more factor of another kind would add', () => {
    expect(satisfiableWith('standard', ['pwd'])).to.include(`${L}standard-mfa`);
    expect(satisfiableWith('standard', ['fed'])).to.include(`${L}standard-mfa`);
    expect(satisfiableWith('standard', ['hwk'])).to.not.include(`${L}standard-mfa`);
  });
});
