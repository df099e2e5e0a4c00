/**
 * Sign-in on a computer by approving it on a phone that is already signed in (the "QR code" way).
 * The computer's sign-in page opens a request (one pending per interaction, 2 minutes); its QR
 * code carries a secret token to vkhod's approval page, where the phone's session approves or
 * refuses it once; the computer's page then takes the approved request once and finishes its own
 * sign-in. Shared by the sign-in flow (the computer) and the cabinet (the phone): no HTTP here.
 *
 * Single use twice over: the phone's decision goes through a one-time slot (`qr-decision`), and
 * the computer's completion takes the request record itself — the store's conditional consume
 * decides both races.
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { chooseAcr, isMultiFactor, satisfiableWith, satisfiedAcrs, type Acr } from '../oidc/acr.ts';
import type { Account } from '../accounts/account.ts';
import type { Store } from '../store.ts';
import { FlowRecords } from '../web/flow-records.ts';

/** How long a request waits for the phone. */
export const QR_REQUEST_SECONDS = 120;
/** A pending request with less left than this is replaced when the page refreshes (a fresh QR before the old one dies). */
export const QR_RENEW_BEFORE_SECONDS = 30;
/** The amr value the approval adds (RFC 8176 `mca`: multiple-channel authentication). */
export const QR_AMR = 'mca';

export interface QrDevice {
  ua: string;
  ip: string;
}

export interface QrRequest {
  /** public id of this request (the computer's page refers to it) */
  id: string;
  /** secret in the QR code's address */
  token: string;
  /** shown on both screens: the citizen compares them */
  code: string;
  clientId: string;
  clientName: string;
  /** acr values the service asked for */
  requested: Acr[];
  computer: QrDevice;
  /** ms since epoch */
  createdAt: number;
  expiresAt: number;
  status: 'pending' | 'approved' | 'denied';
  /** `authTime`: when the phone's session signed in (seconds): the computer's sign-in is as old as that. */
  approval?: { accountId: string; amr: string[]; phone: QrDevice; at: number; authTime?: number };
}

const requests = new FlowRecords<QrRequest>('qr', QR_REQUEST_SECONDS);
const decisions = new FlowRecords<{ id: string }>('qr-decision', QR_REQUEST_SECONDS);

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What a phone sees when it opens a request that cannot be decided any more. */
export type QrUnavailable = 'expired' | 'denied' | 'approved';

export class QrSignIns {
  constructor(private readonly store: Pick<Store, 'oidcAdapter'>) {}

  /** The interaction's request as it is now (any status), or undefined. */
  async current(uid: string): Promise<QrRequest | undefined> {
    const found = await requests.in(this.store).load(uid);
    if (!found) return undefined;
    if (found.status === 'pending' && found.expiresAt <= Date.now()) return undefined;
    return found;
  }

  /**
   * The pending request of the interaction's page: the live one while it has time left, else a
   * new one replacing it (one pending request per page; the old QR stops working).
   */
  async open(uid: string, input: { clientId: string; clientName: string; requested: Acr[]; computer: QrDevice }): Promise<QrRequest> {
    const now = Date.now();
    const live = await this.current(uid);
    if (live?.status === 'pending' && live.expiresAt - now > QR_RENEW_BEFORE_SECONDS * 1000) return live;
    const request: QrRequest = {
      id: randomBytes(9).toString('base64url'),
      token: randomBytes(24).toString('base64url'),
      code: String(randomInt(0, 100)).padStart(2, '0'),
      clientId: input.clientId,
      clientName: input.clientName,
      requested: input.requested,
      computer: { ua: input.computer.ua.slice(0, 512), ip: input.computer.ip },
      createdAt: now,
      expiresAt: now + QR_REQUEST_SECONDS * 1000,
      status: 'pending',
    };
    await requests.in(this.store).save(uid, request);
    await decisions.in(this.store).save(`${uid}.${request.token}`, { id: request.id });
    return request;
  }

  /** The request a scanned QR code names, if the phone may still decide it. */
  async forPhone(uid: string, token: string): Promise<{ request: QrRequest } | { unavailable: QrUnavailable }> {
    const found = await requests.in(this.store).load(uid);
    if (!found || !sameSecret(found.token, token)) return { unavailable: 'expired' };
    if (found.status !== 'pending') return { unavailable: found.status };
    if (found.expiresAt <= Date.now()) return { unavailable: 'expired' };
    return { request: found };
  }

  /**
   * The phone's decision, once: of parallel decisions exactly one is recorded (`decided`); the
   * others, and any decision on a request that expired or was replaced, are told why not.
   */
  async decide(
    uid: string,
    token: string,
    decision: { approve: true; account: Account; amr: string[]; authTime: number; phone: QrDevice } | { approve: false; phone: QrDevice },
  ): Promise<{ decided: QrRequest } | { unavailable: QrUnavailable }> {
    const before = await this.forPhone(uid, token);
    if ('unavailable' in before) return before;
    if (!(await decisions.in(this.store).consume(`${uid}.${token}`))) {
      const now = await requests.in(this.store).load(uid);
      return { unavailable: now?.status === 'denied' ? 'denied' : 'approved' };
    }
    const after = await this.forPhone(uid, token);
    if ('unavailable' in after) return after;
    const decided: QrRequest = decision.approve
      ? {
          ...after.request,
          status: 'approved',
          approval: {
            accountId: decision.account.id,
            amr: decision.amr,
            phone: decision.phone,
            at: Date.now(),
            authTime: decision.authTime,
          },
        }
      : { ...after.request, status: 'denied' };
    await requests.in(this.store).save(uid, decided);
    return { decided };
  }

  /** The computer takes the approved request: exactly one of parallel takers gets it. */
  async takeApproved(uid: string): Promise<QrRequest | undefined> {
    const taken = await requests.in(this.store).take(uid);
    return taken?.status === 'approved' ? taken : undefined;
  }

  /** Forgets the interaction's request (a denied one, once the computer has shown it). */
  async discard(uid: string): Promise<void> {
    await requests.in(this.store).discard(uid);
  }
}

/**
 * What the phone's session yields for the computer's sign-in: its own amr plus `mca`. The approval
 * is not a factor of its own kind (DESIGN §3): the acr is what the phone's sign-in earned.
 */
export function approvalAmr(phoneAmr: readonly string[]): string[] {
  return [...new Set([...phoneAmr, QR_AMR])];
}

/**
 * Whether the phone must first add a second factor: its session is one-factor and the service asked
 * for an `-mfa` value that a second factor would meet (and the session alone does not).
 */
export function needsSecondFactor(request: Pick<QrRequest, 'requested'>, account: Account, phoneAmr: readonly string[]): Acr | undefined {
  if (isMultiFactor(phoneAmr) || !request.requested.length) return undefined;
  if (chooseAcr(request.requested, satisfiedAcrs(account.level, phoneAmr))) return undefined;
  return chooseAcr(request.requested, satisfiableWith(account.level, phoneAmr));
}
