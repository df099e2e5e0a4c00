/**
 * Passkeys and security keys (WebAuthn, via @simplewebauthn/server): several authenticators per
 * account, each with a name; sign-in with a discoverable passkey and no identifier; a passkey as
 * the second factor. Challenges are single-use (consumed atomically in the store) and live two
 * minutes; the signature counter must grow.
 */
import { randomUUID } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Accounts } from '../accounts/accounts.ts';
import { fullName } from '../accounts/accounts.ts';
import type { ChallengeRepository } from '../store.ts';
import type { Account, Passkey } from '../accounts/account.ts';

/**
 * @simplewebauthn/server (with its ASN.1 and CBOR packages) is loaded on the first passkey
 * operation, not at start: importing it costs ~0.4 s of CPU and ~10 MB that a process serving
 * tokens never needs (issue 15).
 */
let library: Promise<typeof import('@simplewebauthn/server')> | undefined;
const simpleWebAuthn = () => (library ??= import('@simplewebauthn/server'));

export const WEBAUTHN_CHALLENGE_SECONDS = 120;
export const PASSKEY_NAME_MAX = 60;

export interface RelyingPartyIdentity {
  /** the issuer's host name */
  id: string;
  name: string;
  /** the issuer's origin */
  origin: string;
}

export type PasskeySignIn =
  | { ok: true; account: Account; amr: string[]; passkey: Passkey }
  | { ok: false; reason: 'challenge' | 'unknown_credential' | 'invalid' | 'counter' | 'wrong_account' };

/** amr for a passkey assertion: synced passkeys are software keys, device-bound ones hardware. */
export function passkeyAmr(deviceType: Passkey['deviceType'], userVerified: boolean): string[] {
  return [deviceType === 'multiDevice' ? 'swk' : 'hwk', ...(userVerified ? ['user', 'mfa'] : [])];
}

export class WebAuthnMethod {
  constructor(
    private readonly accounts: Accounts,
    private readonly challenges: ChallengeRepository,
    private readonly rp: RelyingPartyIdentity,
  ) {}

  /**
   * Stores a challenge for `binding` (an interaction or a cabinet session). The challenge value is
   * public; the record exists so that it can be consumed exactly once.
   */
  private async remember(challenge: string, binding: string, purpose: string, accountId?: string): Promise<string> {
    const id = randomUUID();
    const now = Date.now();
    await this.challenges.create({
      id,
      purpose,
      recipient: binding,
      codeHash: challenge,
      attempts: 0,
      maxAttempts: 1,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + WEBAUTHN_CHALLENGE_SECONDS * 1000).toISOString(),
      accountId,
    });
    return id;
  }

  /** The challenge behind `handle`, consumed now; undefined if unknown, expired, used or for another binding. */
  private async take(handle: string, binding: string, purpose: string): Promise<{ challenge: string; accountId?: string } | undefined> {
    if (typeof handle !== 'string' || handle.length > 64) return undefined;
    const record = await this.challenges.find(handle);
    if (!record || record.recipient !== binding || record.purpose !== purpose) return undefined;
    if (!(await this.challenges.consume(handle, new Date().toISOString()))) return undefined;
    return { challenge: record.codeHash, accountId: record.accountId };
  }

  async registrationOptions(account: Account, binding: string) {
    const { generateRegistrationOptions } = await simpleWebAuthn();
    const options = await generateRegistrationOptions({
      rpName: this.rp.name,
      rpID: this.rp.id,
      userName: account.phone ?? account.email ?? account.id,
      userDisplayName: fullName(account.name),
      userID: new TextEncoder().encode(account.id),
      attestationType: 'none',
      excludeCredentials: (account.passkeys ?? []).map((p) => ({ id: p.id, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
    });
    const handle = await this.remember(options.challenge, binding, 'webauthn-register', account.id);
    return { handle, options };
  }

  /**
   * Verifies a new authenticator and returns it (the caller stores it on the account), with the
   * amr its creation proved (user verification included) for a sign-in it completes.
   */
  async register(
    account: Account,
    binding: string,
    handle: string,
    response: RegistrationResponseJSON,
    name: string,
  ): Promise<{ passkey: Passkey; amr: string[] } | undefined> {
    const taken = await this.take(handle, binding, 'webauthn-register');
    if (!taken || taken.accountId !== account.id) return undefined;
    try {
      const { verifyRegistrationResponse } = await simpleWebAuthn();
      const result = await verifyRegistrationResponse({
        response,
        expectedChallenge: taken.challenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.id,
        requireUserVerification: false,
      });
      if (!result.verified) return undefined;
      const { credential, credentialDeviceType, credentialBackedUp, userVerified } = result.registrationInfo;
      // A credential id is one account's key: a second registration of it (a replayed or forged
      // response) is refused here, not by the store's unique key as a 500.
      if (await this.accounts.findByKey({ kind: 'webauthn', value: credential.id })) return undefined;
      const passkey: Passkey = {
        id: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: credential.transports,
        name: name.trim().slice(0, PASSKEY_NAME_MAX) || 'Ключ доступа',
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        createdAt: new Date().toISOString(),
      };
      return { passkey, amr: passkeyAmr(credentialDeviceType, userVerified) };
    } catch {
      return undefined;
    }
  }

  /** Options for an assertion: any discoverable passkey (no account), or one of `account`'s. */
  async authenticationOptions(binding: string, account?: Account) {
    const { generateAuthenticationOptions } = await simpleWebAuthn();
    const options = await generateAuthenticationOptions({
      rpID: this.rp.id,
      userVerification: 'preferred',
      allowCredentials: account ? (account.passkeys ?? []).map((p) => ({ id: p.id, transports: p.transports as never })) : [],
      timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
    });
    const handle = await this.remember(options.challenge, binding, 'webauthn-auth', account?.id);
    return { handle, options };
  }

  /** Verifies an assertion; on success the counter and last use are stored. */
  async authenticate(
    binding: string,
    handle: string,
    response: AuthenticationResponseJSON,
    expectedAccountId?: string,
  ): Promise<PasskeySignIn> {
    const taken = await this.take(handle, binding, 'webauthn-auth');
    if (!taken) return { ok: false, reason: 'challenge' };
    const credentialId = typeof response?.id === 'string' ? response.id : '';
    const account = credentialId ? await this.accounts.findByKey({ kind: 'webauthn', value: credentialId }) : undefined;
    const passkey = account?.passkeys?.find((p) => p.id === credentialId);
    if (!account || !passkey) return { ok: false, reason: 'unknown_credential' };
    if ((expectedAccountId ?? taken.accountId) && account.id !== (expectedAccountId ?? taken.accountId))
      return { ok: false, reason: 'wrong_account' };
    let info;
    try {
      const { verifyAuthenticationResponse } = await simpleWebAuthn();
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: taken.challenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.id,
        credential: {
          id: passkey.id,
          publicKey: Buffer.from(passkey.publicKey, 'base64url'),
          counter: passkey.counter,
          transports: passkey.transports as never,
        },
        requireUserVerification: false,
      });
      if (!result.verified) return { ok: false, reason: 'invalid' };
      info = result.authenticationInfo;
    } catch (err) {
      return { ok: false, reason: /counter/i.test((err as Error).message) ? 'counter' : 'invalid' };
    }
    const now = new Date().toISOString();
    try {
      await this.accounts.modify(
        account.id,
        (a) => ({
          ...a,
          passkeys: (a.passkeys ?? []).map((p) =>
            p.id === passkey.id ? { ...p, counter: info.newCounter, lastUsedAt: now, backedUp: info.credentialBackedUp } : p,
          ),
        }),
        undefined,
        { expect: account },
      );
    } catch {
      // Another sign-in with the same authenticator won the race: the counter would regress.
      return { ok: false, reason: 'counter' };
    }
    return { ok: true, account, amr: passkeyAmr(passkey.deviceType, info.userVerified), passkey };
  }
}
