/**
 * The vkhod CLI: `npm run cli -- <command>`.
 *
 *   clients list | show ID | add … | update ID … | rotate-secret ID [--overlap S] | end-overlap ID
 *   clients disable ID | enable ID | delete ID
 *   clients add-esia --id MNEMONIC --certificate FILE.pem --redirect-uri URL … --scope "openid fullname …"
 *               [--logout-uri URL …] [--name NAME] [--gost-tokens]   (ESIA profile: docs/esia-migration.md)
 *   keys list | rotate [--delay S] | activate KID | withdraw KID
 *   operators add --login LOGIN --name "Full Name" --role service_centre|post|admin [--role …]
 *   operators list
 *   operators remove LOGIN
 *   operators reset-password LOGIN
 *   accounts delete ACCOUNT_ID --reason "..."  |  accounts restore ACCOUNT_ID  |  accounts erase-due
 *   audit [--account ID] [--type TYPE|family.*] [--since …] [--until …] [--limit N] [--cursor C] [--json]
 *   store export FILE  |  store import FILE [--force]  |  store version
 *
 * Clients and signing keys live in the store (issue 14): a change reaches every running vkhod
 * process within seconds, no restart. The clients file (VKHOD_CLIENTS_FILE) seeds the store, and
 * holds the ESIA-profile clients (issue 13), which are read at start.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { clientListSchema, type ClientMetadata } from '../config/clients.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { auditCommand, AUDIT_USAGE } from './cli/audit.ts';
import { clientsCommand, CLIENTS_USAGE, keysCommand, KEYS_USAGE } from './cli/clients.ts';
import { esiaClientFromArgs, ESIA_USAGE } from './cli/esia.ts';
import { esignCommand, ESIGN_USAGE } from './cli/esign.ts';
import { operatorsCommand, OPERATORS_USAGE } from './cli/operators.ts';
import { accountsCommand, ACCOUNTS_USAGE } from './cli/accounts.ts';
import { storeCommand, STORE_USAGE } from './cli/store.ts';

class UsageError extends Error {}

const USAGE = `usage: npm run cli -- <command>
${CLIENTS_USAGE}
${ESIA_USAGE}
${KEYS_USAGE}
${OPERATORS_USAGE}
${ACCOUNTS_USAGE}
${AUDIT_USAGE}
${STORE_USAGE}
${ESIGN_USAGE}`;

function readClientFile(file: string): ClientMetadata[] {
  if (!existsSync(file)) return [];
  const parsed = clientListSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new ConfigError(`${file}: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

function writeClientFile(file: string, clients: ClientMetadata[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(clients, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

async function run(argv: string[]): Promise<void> {
  const [group, action, ...rest] = argv;
  if (!group || group === 'help' || group === '--help') return console.log(USAGE);
  if (group === 'esign') return esignCommand(action, rest, (message) => new UsageError(message));
  const config = loadConfig();
  if (group === 'clients' && action === 'add-esia') {
    const clients = esiaClientFromArgs(rest, readClientFile(config.clientsFile), (message) => new UsageError(message));
    writeClientFile(config.clientsFile, clients);
    return console.log(`ESIA client ${clients.at(-1)!.client_id} added to ${config.clientsFile}\nrestart vkhod to load it`);
  }
  if (group === 'clients') return clientsCommand(config, action, rest, (message) => new UsageError(message));
  if (group === 'keys') return keysCommand(config, action, rest, (message) => new UsageError(message));
  if (group === 'operators') return operatorsCommand(config, action, rest, (message) => new UsageError(message));
  if (group === 'accounts') return accountsCommand(config, action, rest, (message) => new UsageError(message));
  if (group === 'audit') return auditCommand(config, argv.slice(1), (message) => new UsageError(message));
  if (group === 'store') return storeCommand(config, action, rest, (message) => new UsageError(message));
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
