import { expect } from 'chai';
import { FACTORS, SecondFactors } from '../../src/methods/factors/registry.ts';
import { availableFactors } from '../../src/methods/second-factor.ts';
import { TotpMethod } from '../../src/methods/totp.ts';
import { SecretBox } from '../../src/security/secret-box.ts';
import { generate } from 'otplib';
import type { Account } from '../../src/store.ts';

const account = (over: Partial<Account>): Account =>
  ({ id: 'a1', level: 'simplified', name: { family: 'И', given: 'И' }, ...over }) as Account;

describe('second factors: one interface, one registry', () => {
  it('knows the four factors, preferred in order, each with its amr and rate-limit rules', () => {
    expect(FACTORS.map((f) => f.kind)).to.deep.equal(['totp', 'sms', 'webauthn', 'recovery']);
    for (const f of FACTORS) {
      expect(f.amr, f.kind).to.not.be.empty;
      expect(f.limits, f.kind).to.include('login-failures-account');
    }
    expect(FACTORS.find((f) => f.kind === 'sms')!.limits).to.include('code-sends-recipient');
  });

  it('availableFactors comes from the registry: standalone factors the account has, the preferred one first', () => {
    const a = account({
      totp: {} as never,
      phone: '+79990000000',
      phoneVerified: true,
      passkeys: [{} as never],
      recoveryCodes: { hashes: ['x'] } as never,
    });
    expect(availableFactors(a)).to.deep.equal(['totp', 'sms', 'webauthn']);
    expect(availableFactors({ ...a, mfa: { enabled: true, preferred: 'webauthn' } })).to.deep.equal(['webauthn', 'totp', 'sms']);
    expect(availableFactors(account({ phone: '+79990000000', phoneVerified: false }))).to.deep.equal([]);
  });

  it('binds each kind to its method; anything else from a form is no factor', async () => {
    const calls: string[] = [];
    const registry = new SecondFactors({
      totp: {
        verify: async (_a: Account, code: string) => (calls.push(`totp ${code}`), { ok: true, amr: ['otp'], method: 'totp' }),
        start: async () => ({}),
        enrolment: () => ({}),
      } as never,
      sms: {
        verify: async (_a: Account, id: string, code: string) => (
          calls.push(`sms ${id} ${code}`),
          { ok: true, amr: ['sms'], method: 'sms' }
        ),
        start: async () => ({}),
      } as never,
      webauthn: { authenticate: async () => ({ ok: false, reason: 'unknown_key' }), registrationOptions: async () => ({}) } as never,
      recoveryCodes: {
        verify: async (_a: Account, code: string) => (calls.push(`recovery ${code}`), { ok: false, reason: 'invalid' }),
      } as never,
    });
    const a = account({ recoveryCodes: { hashes: ['x'] } as never });
    expect(registry.get('nonsense')).to.equal(undefined);
    expect(registry.get({})).to.equal(undefined);
    await registry.get('totp')!.verify(a, { code: '123456', ip: '::1' });
    await registry.get('recovery')!.verify(a, { code: 'abcde-fghij', ip: '::1' });
    expect(await registry.get('sms')!.verify(a, { code: '111111', ip: '::1' }), 'no code was sent in this sign-in').to.deep.equal({
      ok: false,
      reason: 'expired',
    });
    await registry.get('sms')!.verify(a, { code: '111111', challengeId: 'c1', ip: '::1' });
    expect(await registry.get('webauthn')!.verify(a, { ip: '::1' })).to.deep.equal({ ok: false, reason: 'invalid', detail: 'unknown_key' });
    expect(calls).to.deep.equal(['totp 123456', 'recovery abcde-fghij', 'sms c1 111111']);
    expect(registry.availableTo(a).map((f) => f.kind)).to.deep.equal(['recovery']);
  });

  it('sets an authenticator app up through the registry: the secret sealed to the flow that began it, proven by a code', async () => {
    const totp = new TotpMethod(new SecretBox(Buffer.alloc(32, 7)), {} as never, 'vkhod');
    const app = new SecondFactors({ totp, sms: {} as never, webauthn: {} as never, recoveryCodes: {} as never }).secretEnrolment;
    const a = account({ phone: '+79990000000' });
    const begun = await app.begin(a, 'enrol-totp:uid1');
    expect(begun.view.qr).to.match(/^data:image\/png;base64,/);
    expect(begun.sealed).to.not.include(begun.view.secret.replace(/ /g, ''));
    expect((await app.view(a, begun.sealed, 'enrol-totp:uid1')).secret).to.equal(begun.view.secret);
    const secret = begun.view.secret.replace(/ /g, '');
    const code = await generate({ secret });
    expect(await app.confirm(begun.sealed, 'enrol-totp:uid1', code === '000000' ? '111111' : '000000')).to.equal(undefined);
    let otherFlow: unknown;
    await app.confirm(begun.sealed, 'enrol-totp:uid2', code).catch((err) => (otherFlow = err));
    expect(otherFlow, 'a secret sealed to one flow does not open in another').to.be.instanceOf(Error);
    const setUp = await app.confirm(begun.sealed, 'enrol-totp:uid1', code);
    const withApp = setUp!(a);
    expect(withApp.totp?.lastTimeStep).to.be.a('number');
    expect((await totp.verify(withApp, code)).ok, 'the code that proved the enrolment is not accepted again').to.equal(false);
  });
});
