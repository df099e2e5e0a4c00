/**
 * The vkhod CLI: `npm run cli -- <command>`.
 *
 *   clients list | show ID | add … | update ID … | rotate-secret ID [--overlap S] | end-overlap ID
 *   clients disable ID | enable ID | delete ID
 *   keys list | rotate [--delay S] | activate KID | withdraw KID
 *   operators add --login LOGIN --name "Full Name" --role service_centre|post|admin [--role …]
 *   operators list
 *   operators remove LOGIN
 *   operators reset-password LOGIN
 *   accounts delete ACCOUNT_ID --reason "..."  |  accounts restore ACCOUNT_ID  |  accounts erase-due
 *
 * Clients and signing keys live in the store (issue 14): a change reaches every running vkhod
 * process within seconds, no restart. The clients file (VKHOD_CLIENTS_FILE) only seeds the store.
 */
import { ConfigError, loadConfig } from '../config/load.ts';
import { clientsCommand, CLIENTS_USAGE, keysCommand, KEYS_USAGE } from './cli/clients.ts';
import { esignCommand, ESIGN_USAGE } from './cli/esign.ts';
import { operatorsCommand, OPERATORS_USAGE } from './cli/operators.ts';
import { accountsCommand, ACCOUNTS_USAGE } from './cli/accounts.ts';

class UsageError extends Error {}

const USAGE = `usage: npm run cli -- <command>
${CLIENTS_USAGE}
${KEYS_USAGE}
${OPERATORS_USAGE}
${ACCOUNTS_USAGE}
${ESIGN_USAGE}`;

async function run(argv: string[]): Promise<void> {
  const [group, action, ...rest] = argv;
  if (!group || group === 'help' || group === '--help') return console.log(USAGE);
  if (group === 'esign') return esignCommand(action, rest, (message) => new UsageError(message));
  const config = loadConfig();
  if (group === 'clients') return clientsCommand(config, action, rest, (message) => new UsageError(message));
  if (group === 'keys') return keysCommand(config, action, rest, (message) => new UsageError(message));
  if (group === 'operators') return operatorsCommand(config, action, rest, (message) => new UsageError(message));
  if (group === 'accounts') return accountsCommand(config, action, rest, (message) => new UsageError(message));
  throw new UsageError(`unknown command: ${argv.join(' ')}`);
}

run(process.argv.slice(2)).catch((err: Error) => {
  if (err instanceof UsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`vkhod: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(`vkhod: ${err.message}`);
  process.exit(1);
});
