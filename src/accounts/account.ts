/**
 * The account and what it holds: the domain types (DESIGN §2). The Store port (store.ts) names them
 * in its signatures; this module imports nothing.
 */

export type AccountLevel = 'simplified' | 'standard' | 'confirmed';
/** `deactivated`: deletion asked, refused everywhere, erased after the grace unless cancelled. */
export type AccountStatus = 'active' | 'deactivated' | 'deleted';

export interface PersonName {
  family: string;
  given: string;
  middle?: string;
}

export type SecondFactorKind = 'sms' | 'totp' | 'webauthn';

/** A registered WebAuthn authenticator (passkey or security key). */
export interface Passkey {
  /** credential id, base64url */
  id: string;
  /** COSE public key, base64url */
  publicKey: string;
  counter: number;
  transports?: string[];
  name: string;
  /** multiDevice = synced passkey (software-protected), singleDevice = bound to hardware */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  createdAt: string;
  lastUsedAt?: string;
}

/** A Russian internal passport. */
export interface Passport {
  /** 4 digits */
  series: string;
  /** 6 digits */
  number: string;
  /** YYYY-MM-DD */
  issueDate: string;
  issuer: string;
  /** NNN-NNN */
  departmentCode: string;
}

export interface PostalAddress {
  formatted: string;
  postalCode?: string;
}

/** Identity data beyond the name; what of it is verified is told by `verifications`. */
export interface IdentityData {
  /** YYYY-MM-DD */
  birthDate?: string;
  gender?: 'male' | 'female';
  birthPlace?: string;
  inn?: string;
  passport?: Passport;
  address?: PostalAddress;
}

export type VerificationMethod = 'registry' | 'service_centre' | 'post' | 'bank' | 'esignature';
export type VerifiedItem = 'name' | 'birthdate' | 'gender' | 'birthplace' | 'snils' | 'inn' | 'id_doc' | 'address';

/**
 * A change of level with its method, evidence, actor and time (DESIGN §2). It holds while the
 * identity data it verified is unchanged: `fingerprint` is taken over that data.
 */
export interface VerificationEvent {
  id: string;
  method: VerificationMethod;
  level: 'standard' | 'confirmed';
  items: VerifiedItem[];
  fingerprint: string;
  /**
   * A digest of each item's value as verified: an item whose value changed since (an INN or an
   * address edited later, which does not touch `fingerprint`) is no longer verified.
   */
  itemDigests?: Partial<Record<VerifiedItem, string>>;
  time: string;
  /** `registry`, an operator's login, a bank's id, a certificate's serial … */
  actor: string;
  evidence: Record<string, unknown>;
}

/** The stored shape of an account. The domain (`src/accounts`) owns its rules. */
export interface Account {
  id: string;
  /** Optimistic concurrency: incremented by every successful update. */
  version: number;
  status: AccountStatus;
  level: AccountLevel;
  name: PersonName;
  phone?: string;
  phoneVerified: boolean;
  email?: string;
  emailVerified: boolean;
  snils?: string;
  passwordHash?: string;
  /** "Sign-in with confirmation": every password sign-in asks for a second factor. */
  mfa?: { enabled: boolean; preferred?: SecondFactorKind };
  /** Authenticator app: the seed sealed with the at-rest key, and the last accepted time step. */
  totp?: { sealedSecret: string; createdAt: string; lastTimeStep: number };
  passkeys?: Passkey[];
  /** Single-use recovery codes: keyed hashes of the ones not used yet. */
  recoveryCodes?: { hashes: string[]; createdAt: string };
  identity?: IdentityData;
  /** Every verification, newest last; the level is derived from those that still hold. */
  verifications?: VerificationEvent[];
  /** The registry check of the current data (upgrade to standard). */
  registryCheck?: {
    ticket: string;
    status: 'pending' | 'approved' | 'rejected';
    submittedAt: string;
    decidedAt?: string;
    reason?: string;
    fingerprint: string;
  };
  /** Upstream identities linked to this account (banks): found by the key `fed:<bank id>`. */
  federations?: Array<{ provider: string; subject: string; linkedAt: string }>;
  /**
   * A confirmation code sent by post, waiting to be typed in. `fingerprint`: the identity data
   * (identityFingerprint) the letter was sent for; the code confirms that data and no other.
   */
  postalConfirmation?: { challengeId: string; letterId: string; requestedAt: string; fingerprint?: string };
  /** Sessions and refresh tokens issued before this instant are no longer honoured. */
  sessionsValidAfter?: string;
  createdAt: string;
  /** Any change of the record (a device seen, a consent remembered, a factor added…). */
  updatedAt: string;
  /**
   * The last change of the data released to relying parties — name, contacts, identity data,
   * level, verifications: OIDC's `updated_at` (absent: unchanged since `createdAt`).
   */
  profileUpdatedAt?: string;
  deletedAt?: string;
  /** A deletion asked for (status `deactivated`): erased at `eraseAfter` unless cancelled. */
  deletion?: { requestedAt: string; eraseAfter: string; actor: string; reason?: string };
  /** Consent to the processing of personal data given at registration (152-FZ). */
  pdConsent?: { version: string; at: string };
  /** Room for later capabilities (factors, identity documents) without schema changes. */
  extra?: Record<string, unknown>;
}
