/**
 * Which device each session of an account signed in from, and alerts for a device not seen before.
 *
 * node-oidc-provider's Session keeps no User-Agent or IP, so each new sign-in (a session uid with
 * a new login time, seen at `authorization.success`) is recorded beside it in the store
 * (`VkhodSessionDevice`, keyed by the session uid, with the account id so the cabinet can list
 * them). A browser carries a long-lived random device cookie; the account keeps hashes of the
 * devices it has signed in from (`extra.knownDevices`). A sign-in from a device not among them —
 * once the account has any — sends an alert to the confirmed contacts the citizen chose.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Services } from '../services.ts';
import type { Account } from '../accounts/account.ts';
import { deviceLabel } from './user-agent.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'config' | 'logger' | 'notifier' | 'provider' | 'store' | 'views'>;

export const DEVICE_MODEL = 'VkhodSessionDevice';
const DEVICE_COOKIE = 'vkhod.device';
const KNOWN_MAX = 20;
const WORK = Symbol('vkhod.signInDevice');

export interface SessionDevice {
  accountId: string;
  uid: string;
  ua: string;
  ip: string;
  loginTs: number;
  amr: string[];
  clientId?: string;
  clientName?: string;
}

export interface AlertSettings {
  sms: boolean;
  email: boolean;
}

/** Which channels carry sign-in alerts (both by default). Security changes are always notified. */
export function alertSettings(account: Account): AlertSettings {
  const saved = account.extra?.alerts as Partial<AlertSettings> | undefined;
  return { sms: saved?.sms !== false, email: saved?.email !== false };
}

const hashOf = (id: string) => createHash('sha256').update(`vkhod-device:${id}`).digest('base64url').slice(0, 22);

interface OidcCtx {
  oidc?: {
    session?: { uid?: string; accountId?: string; loginTs?: number; amr?: string[] };
    client?: { clientId?: string; clientName?: string };
    entities?: { DeviceCode?: { deviceInfo?: { ua?: unknown; ip?: unknown } } };
  };
}

/**
 * Sign-ins that hand access to another device are always told to the citizen, whether or not this
 * browser is known: a TV or kiosk through the device grant (the browser only confirmed it), and a
 * computer through a QR code approved on the phone (`mca` in its amr).
 */
export type HandedOver = { kind: 'device'; ua: string; ip: string } | { kind: 'qr' };

function handedOver(ctx: OidcCtx, amr: readonly string[]): HandedOver | undefined {
  const info = ctx.oidc?.entities?.DeviceCode?.deviceInfo;
  if (ctx.oidc?.entities?.DeviceCode)
    return {
      kind: 'device',
      ua: typeof info?.ua === 'string' ? info.ua.slice(0, 512) : '',
      ip: typeof info?.ip === 'string' ? info.ip : '',
    };
  return amr.includes('mca') ? { kind: 'qr' } : undefined;
}

/**
 * Hooks `authorization.success` and answers only once the record (and any alert) is written, so
 * the cabinet lists the session as soon as the browser lands there. Mounted just before the provider.
 */
export function deviceTracking(services: Deps): Middleware {
  const { provider, store, config } = services;
  provider.on('authorization.success', (ctx: Context & OidcCtx) => {
    const session = ctx.oidc?.session;
    if (!session?.uid || !session.accountId) return;
    let deviceId = ctx.cookies.get(DEVICE_COOKIE);
    const isNew = !deviceId || !/^[\w-]{16,64}$/.test(deviceId);
    if (isNew) {
      deviceId = randomBytes(18).toString('base64url');
      ctx.cookies.set(DEVICE_COOKIE, deviceId, {
        httpOnly: true,
        sameSite: 'lax',
        secure: config.production,
        maxAge: 400 * 86_400_000,
        path: '/',
        overwrite: true,
      });
    }
    const device: SessionDevice = {
      accountId: session.accountId,
      uid: session.uid,
      ua: String(ctx.get('user-agent') ?? '').slice(0, 512),
      ip: ctx.ip,
      loginTs: session.loginTs ?? Math.floor(Date.now() / 1000),
      amr: session.amr ?? [],
      clientId: ctx.oidc?.client?.clientId,
      clientName: ctx.oidc?.client?.clientName ?? ctx.oidc?.client?.clientId,
    };
    (ctx as unknown as Record<symbol, unknown>)[WORK] = record(services, ctx, device, deviceId!, handedOver(ctx, device.amr)).catch((err) =>
      services.logger.error({ err }, 'session device record failed'),
    );
  });
  return async (ctx, next) => {
    await next();
    const work = (ctx as unknown as Record<symbol, Promise<void> | undefined>)[WORK];
    if (work) await work;
  };

  async function record(services: Deps, ctx: Context, device: SessionDevice, deviceId: string, handed?: HandedOver): Promise<void> {
    const devices = store.oidcAdapter(DEVICE_MODEL);
    const saved = (await devices.find(device.uid)) as SessionDevice | undefined;
    // A device grant may be confirmed from a browser whose session already exists: told all the same.
    if (handed?.kind === 'device') {
      const account = await services.accounts.findActive(device.accountId);
      if (account) await alertHandedOver(services, ctx, account, device, handed);
    }
    if (saved && saved.accountId === device.accountId && saved.loginTs === device.loginTs) return;
    const hash = hashOf(deviceId);
    const current = await services.accounts.findActive(device.accountId);
    const record = devices.upsert(device.uid, { ...device }, config.ttl.session);
    if (!current || (Array.isArray(current.extra?.knownDevices) && (current.extra!.knownDevices as string[]).includes(hash))) {
      await record;
      if (current && handed?.kind === 'qr') await alertHandedOver(services, ctx, current, device, handed);
      return;
    }
    let seenBefore = true;
    // Asked in the same turn as the device record: both writes go in one transaction (issue 15).
    const [, account] = await Promise.all([
      record,
      services.accounts.modify(
        device.accountId,
        (a) => {
          const known = Array.isArray(a.extra?.knownDevices) ? (a.extra!.knownDevices as string[]) : [];
          seenBefore = known.length === 0 || known.includes(hash);
          if (known.includes(hash)) return a;
          return { ...a, extra: { ...a.extra, knownDevices: [...known, hash].slice(-KNOWN_MAX) } };
        },
        undefined,
        { first: current },
      ),
    ]);
    if (handed?.kind === 'qr') await alertHandedOver(services, ctx, account, device, handed);
    if (!seenBefore && !handed) await alertNewDevice(services, ctx, account, device);
  }
}

/** The confirmed contacts the citizen wants sign-in alerts on. */
function alertContacts(account: Account, always = false) {
  const settings = always ? { sms: true, email: true } : alertSettings(account);
  return [
    ...(settings.sms && account.phone && account.phoneVerified ? [{ kind: 'phone' as const, value: account.phone }] : []),
    ...(settings.email && account.email && account.emailVerified ? [{ kind: 'email' as const, value: account.email }] : []),
  ];
}

/**
 * A sign-in that gave another device access (device grant, QR code): the alert names that device
 * and the one that confirmed it; audited as `signin.handover` (which contacts were told).
 */
async function alertHandedOver(services: Deps, ctx: Context, account: Account, device: SessionDevice, handed: HandedOver): Promise<void> {
  const unknown = services.views.t(ctx, 'sessions.unknown_device');
  const other = handed.kind === 'device' ? { ua: handed.ua, ip: handed.ip } : { ua: device.ua, ip: device.ip };
  await sendAlert(services, ctx, account, device, {
    key: handed.kind === 'device' ? 'messages.device_sign_in' : 'messages.qr_sign_in',
    params: { device: deviceLabel(other.ua, unknown), ip: other.ip, browser: deviceLabel(device.ua, unknown) },
    type: 'signin.handover',
    ip: other.ip,
    details: { via: handed.kind, ua: other.ua.slice(0, 200) },
    // Another device was given access (the phishing case): told whatever the new-device settings say.
    always: true,
  });
}

/** The alert on the contacts the citizen chose, then its audit event naming which contacts were told. */
async function sendAlert(
  services: Deps,
  ctx: Context,
  account: Account,
  device: SessionDevice,
  alert: { key: string; params: Record<string, unknown>; type: string; ip: string; details: Record<string, unknown>; always?: boolean },
): Promise<void> {
  const { views, notifier, config } = services;
  const text = views.t(ctx, `${alert.key}.text`, {
    time: alertTime(services, ctx, device.loginTs),
    service: device.clientName ?? '',
    link: `${config.issuer}/account/sessions`,
    ...alert.params,
  });
  const subject = views.t(ctx, `${alert.key}.subject`);
  const to = alertContacts(account, alert.always);
  for (const contact of to) await notifier.send(contact, { subject, text }).catch(() => undefined);
  await services.audit.record({
    type: alert.type,
    accountId: account.id,
    clientId: device.clientId,
    ip: alert.ip,
    outcome: 'success',
    details: { ...alert.details, alerted: to.map((c) => c.kind) },
  });
}

/** Formatters are costly to build (about a millisecond each): one per locale, kept. */
const timeFormats = new Map<string, Intl.DateTimeFormat>();
function moscowTime(locale: string, at: Date): string {
  let format = timeFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { timeZone: 'Europe/Moscow', dateStyle: 'short', timeStyle: 'short' });
    timeFormats.set(locale, format);
  }
  return format.format(at);
}

/** The sign-in's time for an alert, in Moscow time, in the page's language. */
function alertTime(services: Deps, ctx: Context, loginTs: number): string {
  return moscowTime(services.views.locale(ctx) === 'en' ? 'en-GB' : 'ru-RU', new Date(loginTs * 1000));
}

async function alertNewDevice(services: Deps, ctx: Context, account: Account, device: SessionDevice): Promise<void> {
  await sendAlert(services, ctx, account, device, {
    key: 'messages.new_device',
    params: { device: deviceLabel(device.ua, services.views.t(ctx, 'sessions.unknown_device')) },
    type: 'signin.new_device',
    ip: device.ip,
    details: { ua: device.ua.slice(0, 200) },
  });
}

/** The device records of the account's live sessions, joined with the sessions themselves. */
export async function listSessions(services: Deps, accountId: string) {
  const { store } = services;
  const sessions = await store.listOidcByAccountId('Session', accountId);
  const devices = new Map(
    (await store.listOidcByAccountId(DEVICE_MODEL, accountId)).map((d) => [d.id, d.payload as unknown as SessionDevice]),
  );
  return sessions
    .filter((s) => typeof s.payload.uid === 'string')
    .map((s) => {
      const uid = s.payload.uid as string;
      const grants = Object.values((s.payload.authorizations ?? {}) as Record<string, { grantId?: string }>)
        .map((a) => a.grantId)
        .filter((g): g is string => typeof g === 'string');
      return {
        id: s.id,
        uid,
        loginTs: (s.payload.loginTs as number | undefined) ?? 0,
        amr: (s.payload.amr as string[] | undefined) ?? [],
        grants,
        device: devices.get(uid),
      };
    })
    .sort((a, b) => b.loginTs - a.loginTs);
}

/** Ends one session of the account: the session, its device record and every grant (refresh tokens included) issued in it. */
export async function endSession(services: Deps, session: { id: string; uid: string; grants: string[] }): Promise<void> {
  const { store } = services;
  for (const grantId of session.grants) {
    await store.oidcAdapter('Grant').revokeByGrantId(grantId);
    await store.oidcAdapter('Grant').destroy(grantId);
  }
  await store.oidcAdapter('Session').destroy(session.id);
  await store.oidcAdapter(DEVICE_MODEL).destroy(session.uid);
}

/**
 * Ends every session, grant and token of the account except the session `keepUid` itself (a
 * password change, "end all other sessions"). Grants issued in the kept session are revoked too
 * when `tokensToo` (their tokens were issued under the old password).
 */
export async function endOtherSessions(services: Deps, accountId: string, keepUid: string, tokensToo: boolean): Promise<number> {
  const sessions = await listSessions(services, accountId);
  const kept = sessions.find((s) => s.uid === keepUid);
  let ended = 0;
  for (const s of sessions) {
    if (s.uid === keepUid) continue;
    await endSession(services, s);
    ended++;
  }
  const keepGrants = new Set(tokensToo ? [] : (kept?.grants ?? []));
  for (const model of ['Grant', 'RefreshToken', 'AccessToken', 'AuthorizationCode']) {
    for (const row of await services.store.listOidcByAccountId(model, accountId)) {
      const grantId = model === 'Grant' ? row.id : (row.payload.grantId as string | undefined);
      if (grantId && keepGrants.has(grantId)) continue;
      if (grantId) await services.store.oidcAdapter(model).revokeByGrantId(grantId);
      await services.store.oidcAdapter(model).destroy(row.id);
    }
  }
  return ended;
}
