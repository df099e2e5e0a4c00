/** What the HTTP layers (flows, cabinet, admin) are given: built once by `app.ts`. */
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../config/load.ts';
import type { Accounts } from './accounts/accounts.ts';
import type { PasswordMethod } from './methods/password.ts';
import type { OneTimeCodes } from './methods/one-time-code.ts';
import type { DevOutbox, Notifier } from './notify/notifier.ts';
import type { AuditTrail } from './security/audit.ts';
import type { Csrf } from './security/csrf.ts';
import type { Limits } from './security/limits.ts';
import type { SecretBox } from './security/secret-box.ts';
import type { Store } from './store.ts';
import type { Views } from './web/views.ts';

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
  notifier: Notifier;
  outbox?: DevOutbox;
  codes: OneTimeCodes;
  password: PasswordMethod;
  provider: Provider;
}
