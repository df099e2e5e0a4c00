/**
 * What the HTTP layers (flows, cabinet, admin) are given, and how it is built from the
 * configuration and the store: the composition root. `app.ts` wires it into koa.
 */
import { randomBytes } from 'node:crypto';
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
import { esiaProviderClient, type EsiaClient } from './esia/registration.ts';
import { providerPages } from './flows/interaction/provider-pages.ts';
import { BankMethod } from './methods/bank.ts';
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
import { SigningKeys } from './oidc/keys.ts';
import { LetterQueue } from './admin/letter-queue.ts';
import { ServiceCentre } from './admin/service-centre.ts';
import { ClientRegistrations } from './oidc/client-registrations.ts';
import { seedClients } from './oidc/client-seeding.ts';
import { ClientSecretHasher } from './oidc/client-secrets.ts';
import { ClientRegistry } from './oidc/clients.ts';
import { LiveSigningKeys } from './oidc/live-keys.ts';
import { clientMetadataValidator, createProvider } from './oidc/provider.ts';
import { AuditTrail } from './security/audit.ts';
import { Csrf } from './security/csrf.ts';
import { Limits } from './security/limits.ts';
import { SecretBox } from './security/secret-box.ts';
import type { Store } from './store.ts';
import { Views } from './web/views.ts';
import { CitizenNotices } from './notify/citizen-notices.ts';
import { instrumentStore } from './observability/instrumented-store.ts';
import { Metrics } from './observability/metrics.ts';

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
  /** vkhod's own clients, static in the provider: the cabinet, the demo (relying parties live in the store) */
  clients: ClientMetadata[];
  /** relying parties in the store: create, update, rotate secrets, disable, delete (issue 14) */
  clientRegistrations: ClientRegistrations;
  /** the signing keys, following the store: rotate, activate, withdraw (issue 14) */
  signingKeys: LiveSigningKeys;
  /** the cookie-signing keys (koa and node-oidc-provider) */
  cookieKeys: string[];
  /* ESIA profile (src/esia) */
  /** the token signing keys (private JWKs; /jwks publishes their public parts) */
  jwks: { keys: object[] };
  /** clients registered for the ESIA profile, by client_id (mnemonic) */
  esiaClients: ReadonlyMap<string, EsiaClient>;
  /** Prometheus metrics (issue 14; served by main.ts on the metrics listener) */
  metrics: Metrics;
}

/** Replaceable parts (tests swap the gateways to capture messages or simulate failures). */
export interface ServiceOverrides {
  sms?: SmsGateway;
  mail?: MailTransport;
}

/** nodemailer (~40 modules) is loaded only when SMTP is configured (issue 15). */
async function smtpTransport(url: string, from: string): Promise<MailTransport> {
  const { SmtpMailTransport } = await import('./notify/smtp-mail-transport.ts');
  return new SmtpMailTransport(url, from);
}

async function gateways(config: Config, logger: Logger, overrides: ServiceOverrides): Promise<{ sms: SmsGateway; mail: MailTransport }> {
  const showText = !config.production;
  const sms =
    overrides.sms ??
    (config.sms.gateway === 'http'
      ? new HttpSmsGateway({ url: config.sms.url, token: config.sms.token, sender: config.sms.sender })
      : new ConsoleSmsGateway(logger, showText));
  const mail =
    overrides.mail ??
    (config.mail.transport === 'smtp'
      ? await smtpTransport(config.mail.url, config.mail.from)
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
  // Issue 14: the store is wrapped once, here, so every operation is timed.
  const metrics = new Metrics({ process: Boolean(config.metrics) });
  store = instrumentStore(store, (...op) => metrics.storeOperation(...op));
  const box = new SecretBox(config.secretKey);
  const views = new Views(viewsDir);
  const outbox = config.devOutbox && !config.production ? new DevOutbox(100, store.settings) : undefined;
  await outbox?.restore();
  const { sms, mail } = await gateways(config, logger, overrides);
  const notifier = new Notifier(sms, mail, logger, outbox);
  const audit = new AuditTrail(store.audit, logger);
  audit.subscribe((event) => metrics.observeAudit(event));
  const accounts = new Accounts(store, (event) => audit.published(event));
  // A lockout by wrong passwords or codes is told on every confirmed contact of the account
  // (once per lockout; in Russian: the citizen locked out may not be the one typing).
  const notices = new CitizenNotices(notifier, (key, params) => views.messages.t('ru', key, params));
  const limits = new Limits(store, config.limits, async (accountId) => {
    await audit.record({ type: 'account.locked', accountId, actor: 'system', outcome: 'success', reason: 'too_many_failures' });
    const account = await accounts.findActive(accountId);
    metrics.lockouts.inc();
    if (account) await notices.lockout(account);
  });
  const configured = config.clients.filter((c) => c.client_id !== DEMO_CLIENT_ID && c.client_id !== CABINET_CLIENT_ID);
  // ESIA profile: such a client is known to node-oidc-provider by its internal registration (src/esia/registration.ts),
  // static from the clients file; the other relying parties live in the store.
  // Reading their certificates loads pkijs/asn1js, so only a deployment with such a client does it (at start,
  // so that a bad certificate stops the start with a clear message).
  const esiaClients: ReadonlyMap<string, EsiaClient> = configured.some((c) => c.esia)
    ? (await import('./esia/clients.ts')).readEsiaClients(configured)
    : new Map();
  // never used: the provider's token endpoint is closed to these clients (each process may pick its own)
  const esiaInternalSecret = randomBytes(32).toString('base64url');
  const clients = [
    ...configured.filter((c) => c.esia).map((c) => esiaProviderClient(c, config.issuer, esiaInternalSecret)),
    cabinetClient(config.issuer) as unknown as ClientMetadata,
    ...(config.demoRp ? [demoClient(config.issuer, box)] : []),
  ];
  // Relying parties live in the store, seeded from the clients file below; keys follow the store (issue 14).
  const clientRegistry = new ClientRegistry(
    store.clients,
    new ClientSecretHasher(box.key('client-secrets')),
    config.clientRegistry.cacheSeconds * 1000,
  );
  const signingKeys = new LiveSigningKeys(
    new SigningKeys(store.settings, box),
    config.ttl.refreshToken,
    config.signingKeys.refreshSeconds * 1000,
    logger,
  );
  const jwks = await signingKeys.initial();
  const cookieKeys = [box.key('cookies').toString('base64url')];

  const codes = new OneTimeCodes(store.challenges, notifier, limits, box, (purpose, channel) => metrics.codeSent(purpose, channel));
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
    audit: (input) => audit.record(input),
    clientRegistry,
    liveKeys: signingKeys,
    devicePollTooSoon: async (key) => (await limits.hit('device-polls', key)).blocked,
    ssoUseToRecord: async (key) => !(await limits.hit('sso-uses', key)).blocked,
  });
  const clientRegistrations = new ClientRegistrations({
    registry: clientRegistry,
    audit,
    validate: clientMetadataValidator(provider),
    reserved: [CABINET_CLIENT_ID, DEMO_CLIENT_ID],
    secretOverlapSeconds: config.clientRegistry.secretOverlapSeconds,
    digest: (data) => box.mac('client-secrets', `clients-file\0${data}`),
  });
  // ESIA-profile clients stay static (above); the other file clients seed the store.
  await seedClients(
    clientRegistrations,
    configured.filter((c) => !c.esia),
    (data, message) => logger.warn(data, message),
  );
  metrics.observeProvider(provider);
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
      { trustedCas: config.esign.trustedCas, crls: config.esign.crls },
      { issuer: config.issuer, challengeSeconds: config.esign.challengeSeconds, crlFetch: config.esign.crlFetch },
      logger,
    ),
    provider,
    clients,
    clientRegistrations,
    signingKeys,
    cookieKeys,
    jwks,
    esiaClients,
    metrics,
  };
}
