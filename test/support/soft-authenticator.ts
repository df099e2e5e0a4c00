/**
 * A software WebAuthn authenticator for tests without a browser: a P-256 key per credential,
 * `none` attestation, clientDataJSON / authenticatorData built as a browser and an authenticator
 * would, assertions signed with ECDSA-SHA256 (DER). It answers the `options` vkhod sends
 * (@simplewebauthn/server's JSON shapes) with the JSON @simplewebauthn/browser would post back.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

/* A CBOR encoder for what attestation objects and COSE keys need: integers, byte and text strings, maps. */
type CborValue = number | string | Uint8Array | Map<CborValue, CborValue> | Record<string, unknown>;

function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(length, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(length, 1);
  return b;
}

export function cbor(value: CborValue): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error('cbor: integers only');
    return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), Buffer.from(value)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([cborHead(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k as CborValue), cbor(v as CborValue)])]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64u = (data: Buffer) => data.toString('base64url');

export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  /** the COSE public key */
  cose: Buffer;
  rpId: string;
  userHandle: string;
  signCount: number;
}

export interface AuthenticatorOptions {
  /** user verification done (biometrics / PIN): the UV flag */
  userVerified?: boolean;
  /** a synced passkey (BE + BS flags) rather than a device-bound key */
  synced?: boolean;
}

/** What the relying party sends to navigator.credentials.create (PublicKeyCredentialCreationOptionsJSON). */
export interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  excludeCredentials?: Array<{ id: string }>;
}

/** What the relying party sends to navigator.credentials.get (PublicKeyCredentialRequestOptionsJSON). */
export interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: Array<{ id: string }>;
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  /** `origin` is what the browser would put in clientDataJSON (the page's origin). */
  constructor(
    readonly origin: string,
    readonly options: AuthenticatorOptions = {},
  ) {}

  private flags(extra: number): number {
    let f = FLAG_UP | extra;
    if (this.options.userVerified !== false) f |= FLAG_UV;
    if (this.options.synced) f |= FLAG_BE | FLAG_BS;
    return f;
  }

  private clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin = this.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  private authData(rpId: string, flags: number, signCount: number, attested?: Buffer): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(signCount >>> 0, 0);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), counter, ...(attested ? [attested] : [])]);
  }

  /**
   * navigator.credentials.create(): a new discoverable credential, as RegistrationResponseJSON.
   * `override.id` forces the credential id (to imitate a malicious client reusing another's id).
   */
  create(options: CreationOptions, override: { id?: Buffer } = {}) {
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    if (!override.id && options.excludeCredentials?.some((c) => this.credentials.some((k) => b64u(k.id) === c.id)))
      throw new Error('InvalidStateError: credential already registered');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = cbor(
      new Map<CborValue, CborValue>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const id = override.id ?? randomBytes(32);
    const credLength = Buffer.alloc(2);
    credLength.writeUInt16BE(id.length, 0);
    const attested = Buffer.concat([Buffer.alloc(16), credLength, id, cose]);
    const authData = this.authData(rpId, this.flags(FLAG_AT), 0, attested);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    const credential: SoftCredential = { id, privateKey, cose, rpId, userHandle: options.user.id, signCount: 0 };
    this.credentials.push(credential);
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(this.clientData('webauthn.create', options.challenge)),
        attestationObject: b64u(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /**
   * navigator.credentials.get(): an assertion by `credential` (default: the first allowed one, or
   * the newest), as AuthenticationResponseJSON. `signCount` overrides the counter (to present a
   * regressed one); otherwise it grows by one.
   */
  get(options: RequestOptions, override: { credential?: SoftCredential; signCount?: number; origin?: string } = {}) {
    const allowed = options.allowCredentials?.length
      ? this.credentials.filter((k) => options.allowCredentials!.some((c) => c.id === b64u(k.id)))
      : this.credentials;
    const credential = override.credential ?? allowed[allowed.length - 1];
    if (!credential) throw new Error('NotAllowedError: no credential for this request');
    const rpId = options.rpId ?? credential.rpId;
    credential.signCount = override.signCount ?? credential.signCount + 1;
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, override.origin);
    const authenticatorData = this.authData(rpId, this.flags(0), credential.signCount);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), credential.privateKey);
    return {
      id: b64u(credential.id),
      rawId: b64u(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authenticatorData),
        signature: b64u(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
