/**
 * What the HTTP layers (flows, cabinet, admin) are given, and how it is built from the
 * configuration and the store: the composition root. `app.ts` wires it into koa.
 */
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { ClientMetadata } from '../config/clients.ts';
import type { Config } from '../config/load.ts';
import { Operators } from './admin/operators.ts';
import { Accounts } from './accounts/accounts.ts';
import { AccountDeletion } from './accounts/account-deletion.ts';
import { Levels } from './accounts/levels.ts';
import { DevelopmentRegistry } from './accounts/registry.ts';
import { cabinetClient, CABINET_CLIENT_ID } from './cabinet/client.ts';
import { demoClient, DEMO_CLIENT_ID } from './demo/relying-party.ts';
import { providerPages } from './flows/interaction/provider-pages.ts';
import { BankMethod } from './methods/bank.ts';
import { TrustStore } from './methods/esign/trust-store.ts';
import { EsignatureMethod } from './methods/esignature.ts';
import { FactorChanges } from './methods/factor-changes.ts';
import { SecondFactors } from './methods/factors/registry.ts';
import { OneTimeCodes } from './methods/one-time-code.ts';
import { PasswordMethod } from './methods/password.ts';
import { PostalConfirmation } from './methods/postal-confirmation.ts';
import { RecoveryCodesMethod } from './methods/recovery-codes.ts';
import { SmsMethod } from './methods/sms.ts';
import { TotpMethod } from './methods/totp.ts';
import { WebAuthnMethod } from './methods/webauthn.ts';
import { ConsoleMailTransport, ConsoleSmsGateway } from './notify/console-gateways.ts';
import { HttpSmsGateway } from './notify/http-sms-gateway.ts';
import { DevOutbox, Notifier, type MailTransport, type SmsGateway } from './notify/notifier.ts';
import { SmtpMailTransport } from './notify/smtp-mail-transport.ts';
import { SigningKeys } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';
import { LetterQueue } from './admin/letter-queue.ts';
import { ServiceCentre } from './admin/service-centre.ts';
import { AuditTrail } from './security/audit.ts';
import { Csrf } from './security/csrf.ts';
import { Limits } from './security/limits.ts';
import { SecretBox } from './security/secret-box.ts';
import type { Store } from './store.ts';
import { Views } from './web/views.ts';
import { CitizenNotices } from './notify/citizen-notices.ts';

export interface Services {
  config: Config;
  store: Store;
  logger: Logger;
  views: Views;
  box: SecretBox;
  csrf: Csrf;
  limits: Limits;
  audit: AuditTrail;
  accounts: Accounts;
  levels: Levels;
  /** deleting accounts: deactivate now, erase after the grace (src/accounts/account-deletion.ts) */
  accountDeletion: AccountDeletion;
  notifier: Notifier;
  /** messages vkhod sends a citizen on its own initiative (lockout, level, links) */
  notices: CitizenNotices;
  outbox?: DevOutbox;
  codes: OneTimeCodes;
  password: PasswordMethod;
  totp: TotpMethod;
  sms: SmsMethod;
  webauthn: WebAuthnMethod;
  recoveryCodes: RecoveryCodesMethod;
  /** the second factors behind one interface (methods/factors) */
  factors: SecondFactors;
  factorChanges: FactorChanges;
  postal: PostalConfirmation;
  /** the service centre's work (search, confirm in person), for the operator pages and the admin API */
  serviceCentre: ServiceCentre;
  /** letters to print and send, for the operator pages and the admin API */
  letterQueue: LetterQueue;
  /** operator accounts (service centre, post, admin): src/admin */
  operators: Operators;
  /** sign-in through banks (upstream OpenID providers) */
  bank: BankMethod;
  /** sign-in with a qualified e-signature */
  esignature: EsignatureMethod;
  provider: Provider;
  /** every client the provider knows: configured ones, the cabinet, the demo */
  clients: ClientMetadata[];
  /** the cookie-signing keys (koa and node-oidc-provider) */
  cookieKeys: string[];
}

/** Replaceable parts (tests swap the gateways to capture messages or simulate failures). */
export interface ServiceOverrides {
  sms?: SmsGateway;
  mail?: MailTransport;
}

function gateways(config: Config, logger: Logger, overrides: ServiceOverrides): { sms: SmsGateway; mail: MailTransport } {
  const showText = !config.production;
  const sms =
    overrides.sms ??
    (config.sms.gateway === 'http'
      ? new HttpSmsGateway({ url: config.sms.url, token: config.sms.token, sender: config.sms.sender })
      : new ConsoleSmsGateway(logger, showText));
  const mail =
    overrides.mail ??
    (config.mail.transport === 'smtp'
      ? new SmtpMailTransport(config.mail.url, config.mail.from)
      : new ConsoleMailTransport(logger, showText));
  return { sms, mail };
}

export async function buildServices(
  config: Config,
  store: Store,
  logger: Logger,
  viewsDir: string,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  const box = new SecretBox(config.secretKey);
  const views = new Views(viewsDir);
  const outbox = config.devOutbox && !config.production ? new DevOutbox(100, store.settings) : undefined;
  await outbox?.restore();
  const { sms, mail } = gateways(config, logger, overrides);
  const notifier = new Notifier(sms, mail, logger, outbox);
  const audit = new AuditTrail(store.audit, logger);
  const accounts = new Accounts(store, (event) => audit.published(event));
  // A lockout by wrong passwords or codes is told on every confirmed contact of the account
  // (once per lockout; in Russian: the citizen locked out may not be the one typing).
  const notices = new CitizenNotices(notifier, (key, params) => views.messages.t('ru', key, params));
  const limits = new Limits(store, config.limits, async (accountId) => {
    const account = await accounts.findActive(accountId);
    if (account) await notices.lockout(account);
  });
  const configured = config.clients.filter((c) => c.client_id !== DEMO_CLIENT_ID && c.client_id !== CABINET_CLIENT_ID);
  const clients = [
    ...configured,
    cabinetClient(config.issuer) as unknown as ClientMetadata,
    ...(config.demoRp ? [demoClient(config.issuer, box)] : []),
  ];
  const jwks = await new SigningKeys(store.settings, box).load(config.ttl.refreshToken);
  const cookieKeys = [box.key('cookies').toString('base64url')];

  const codes = new OneTimeCodes(store.challenges, notifier, limits, box);
  const levels = new Levels(
    accounts,
    new DevelopmentRegistry(config.registry.delaySeconds),
    (account, from) => notices.levelChanged(account, from),
    (account, kind) => notices.numberRemoved(account, kind),
  );
  const issuerUrl = new URL(config.issuer);
  const provider = createProvider({
    config,
    store,
    accounts,
    clients,
    firstPartyClients: [CABINET_CLIENT_ID],
    jwks,
    cookieKeys,
    pages: providerPages(views),
    logger,
    devicePollTooSoon: async (key) => (await limits.hit('device-polls', key)).blocked,
  });
  const factorMethods = {
    totp: new TotpMethod(box, accounts, config.serviceName),
    sms: new SmsMethod(codes),
    webauthn: new WebAuthnMethod(accounts, store.challenges, {
      id: issuerUrl.hostname,
      name: config.serviceName,
      origin: issuerUrl.origin,
    }),
    recoveryCodes: new RecoveryCodesMethod(box, accounts),
  };
  const postal = new PostalConfirmation(accounts, levels, codes, store.letters, box, limits);
  return {
    config,
    store,
    logger,
    views,
    box,
    csrf: new Csrf(box, config.production),
    limits,
    audit,
    accounts,
    levels,
    accountDeletion: new AccountDeletion(store, accounts, audit, config.deletionGraceDays),
    notifier,
    notices,
    outbox,
    codes,
    password: new PasswordMethod(accounts, limits, audit),
    ...factorMethods,
    factors: new SecondFactors(factorMethods),
    factorChanges: new FactorChanges(accounts, notifier),
    postal,
    serviceCentre: new ServiceCentre(accounts, levels, audit),
    letterQueue: new LetterQueue(store.letters, postal, audit),
    operators: new Operators(store.settings, limits, audit),
    bank: new BankMethod(config.banks, `${config.issuer}/federation/callback`, logger),
    esignature: new EsignatureMethod(
      store.challenges,
      new TrustStore(config.esign.trustedCas, config.esign.crls, logger),
      { issuer: config.issuer, challengeSeconds: config.esign.challengeSeconds, crlFetch: config.esign.crlFetch },
      logger,
    ),
    provider,
    clients,
    cookieKeys,
  };
}
