/**
 * The vkhod CLI: `npm run cli -- <command>`.
 *
 *   clients list
 *   clients add --id ID --redirect-uri URL [--redirect-uri URL …] [--name NAME]
 *               [--auth client_secret_basic|client_secret_post|private_key_jwt|none]
 *               [--grant authorization_code|refresh_token|client_credentials|urn:ietf:params:oauth:grant-type:device_code …]
 *               [--post-logout-uri URL …] [--jwks-file FILE] [--scope "openid profile …"]
 *               [--machine-scope "resource:scope …"] [--pkce-optional]
 *   clients remove ID
 *   keys list
 *   keys rotate
 *   operators add --login LOGIN --name "Full Name" --role service_centre|post|admin [--role …]
 *   operators list
 *   operators remove LOGIN
 *   operators reset-password LOGIN
 *   accounts delete ACCOUNT_ID --reason "..."  |  accounts restore ACCOUNT_ID  |  accounts erase-due
 *
 * Clients live in the clients file (VKHOD_CLIENTS_FILE, default ./config/clients.json); restart
 * vkhod after a change. Keys live in the store; restart every process after a rotation.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { clientListSchema, type ClientMetadata } from '../config/clients.ts';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import { openStore } from '../adapters/open.ts';
import { SigningKeys } from '../src/oidc/keys.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { clientScopeProblem } from './cli/scopes.ts';
import { esignCommand, ESIGN_USAGE } from './cli/esign.ts';
import { operatorsCommand, OPERATORS_USAGE } from './cli/operators.ts';
import { accountsCommand, ACCOUNTS_USAGE } from './cli/accounts.ts';

class UsageError extends Error {}

const USAGE = `usage: npm run cli -- <command>
  clients list
  clients add --id ID --redirect-uri URL [--redirect-uri URL ...] [--name NAME]
              [--auth client_secret_basic|client_secret_post|private_key_jwt|none]
              [--grant authorization_code|refresh_token|client_credentials|urn:ietf:params:oauth:grant-type:device_code ...]
              [--post-logout-uri URL ...] [--jwks-file FILE] [--scope "openid profile ..."]
              [--machine-scope "resource:scope ..."] [--pkce-optional]
  clients remove ID
  keys list
  keys rotate
${OPERATORS_USAGE}
${ACCOUNTS_USAGE}
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

function clientsAdd(config: Config, args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-uri': { type: 'string', multiple: true },
      auth: { type: 'string' },
      grant: { type: 'string', multiple: true },
      'jwks-file': { type: 'string' },
      scope: { type: 'string' },
      'machine-scope': { type: 'string' },
      'pkce-optional': { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.id) throw new UsageError('--id is required');
  const scopeProblem = clientScopeProblem(values.scope, values['machine-scope']);
  if (scopeProblem) throw new UsageError(scopeProblem);
  const auth = values.auth ?? 'client_secret_basic';
  const secret = auth.startsWith('client_secret') ? randomBytes(32).toString('base64url') : undefined;
  const candidate = {
    client_id: values.id,
    ...(values.name ? { client_name: values.name } : {}),
    ...(secret ? { client_secret: secret } : {}),
    redirect_uris: values['redirect-uri'] ?? [],
    ...(values['post-logout-uri'] ? { post_logout_redirect_uris: values['post-logout-uri'] } : {}),
    grant_types: values.grant ?? ['authorization_code'],
    token_endpoint_auth_method: auth,
    ...(values.scope ? { scope: values.scope } : {}),
    ...(values['machine-scope'] ? { vkhod_machine_scope: values['machine-scope'] } : {}),
    ...(values['pkce-optional'] ? { vkhod_pkce_optional: true } : {}),
    ...(values['jwks-file'] ? { jwks: JSON.parse(readFileSync(values['jwks-file'], 'utf8')) } : {}),
  };
  const clients = readClientFile(config.clientsFile);
  if (clients.some((c) => c.client_id === values.id)) throw new UsageError(`client ${values.id} already exists; remove it first`);
  const parsed = clientListSchema.safeParse([...clients, candidate]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${issue.path.slice(1).join('.') || 'client'}: ${issue.message}`);
  }
  writeClientFile(config.clientsFile, parsed.data);
  console.log(`client ${values.id} added to ${config.clientsFile}`);
  if (secret) console.log(`client_secret: ${secret}\n(shown once: store it in the relying party's secret storage now)`);
  console.log('restart vkhod to load it');
}

function clientsList(config: Config): void {
  const clients = [...config.clients];
  if (!clients.length) return console.log(`no clients in ${config.clientsFile}`);
  for (const c of clients) {
    console.log(
      `${c.client_id}\t${c.token_endpoint_auth_method}\t${c.grant_types.join(',')}\t${c.redirect_uris.join(' ')}${c.client_name ? `\t${c.client_name}` : ''}`,
    );
  }
}

function clientsRemove(config: Config, id: string | undefined): void {
  if (!id) throw new UsageError('which client? clients remove ID');
  const clients = readClientFile(config.clientsFile);
  const rest = clients.filter((c) => c.client_id !== id);
  if (rest.length === clients.length) throw new UsageError(`no client ${id} in ${config.clientsFile}`);
  writeClientFile(config.clientsFile, rest);
  console.log(`client ${id} removed; restart vkhod to apply`);
}

async function keys(config: Config, action: string | undefined): Promise<void> {
  const store = await openStore(config.store);
  try {
    const signingKeys = new SigningKeys(store.settings, new SecretBox(config.secretKey));
    if (action === 'rotate') {
      await signingKeys.load(config.ttl.refreshToken);
      const result = await signingKeys.rotate(config.ttl.refreshToken);
      console.log(`new signing keys: ${result.active.join(', ')}`);
      if (result.retired.length) console.log(`retired (still published until their tokens expire): ${result.retired.join(', ')}`);
      if (result.dropped.length) console.log(`no longer published: ${result.dropped.join(', ')}`);
      console.log('restart every vkhod process to sign with the new keys');
    } else if (action === 'list') {
      const list = await signingKeys.list();
      if (!list.length) console.log('no keys yet: they are generated at the first start');
      for (const k of list)
        console.log(`${k.kid}\t${k.alg}\tcreated ${k.createdAt}${k.retiredAt ? `\tretired ${k.retiredAt}` : '\tactive'}`);
    } else throw new UsageError(`unknown keys command ${action ?? ''}`);
  } finally {
    await store.close();
  }
}

async function run(argv: string[]): Promise<void> {
  const [group, action, ...rest] = argv;
  if (!group || group === 'help' || group === '--help') return console.log(USAGE);
  if (group === 'esign') return esignCommand(action, rest, (message) => new UsageError(message));
  const config = loadConfig();
  if (group === 'clients' && action === 'add') return clientsAdd(config, rest);
  if (group === 'clients' && action === 'list') return clientsList(config);
  if (group === 'clients' && action === 'remove') return clientsRemove(config, rest[0]);
  if (group === 'keys') return keys(config, action);
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
