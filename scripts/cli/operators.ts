/**
 * `vkhod operators …`: operator accounts for the admin API and the /operator pages.
 *
 *   operators add --login LOGIN --name "Full Name" --role service_centre|post|admin [--role …]
 *   operators list
 *   operators remove LOGIN
 *   operators reset-password LOGIN
 *
 * Passwords are generated, printed once and stored only as argon2id hashes. Changes apply at
 * once (every request re-reads the operator list); a reset or removal ends open sessions.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Config } from '../../config/load.ts';
import { openStore } from '../../adapters/open.ts';
import { OPERATOR_ROLES, OperatorError, Operators } from '../../src/admin/operators.ts';
import { auditEvent } from '../../src/security/audit.ts';
import { Limits } from '../../src/security/limits.ts';

export const OPERATORS_USAGE = `  operators add --login LOGIN --name "Full Name" --role ${OPERATOR_ROLES.join('|')} [--role ...]
  operators list
  operators remove LOGIN
  operators reset-password LOGIN`;

const PROBLEMS: Record<OperatorError['code'], string> = {
  invalid_login: 'login: 2-64 characters, lower-case latin letters, digits, ".", "_" or "-", starting with a letter or digit',
  invalid_name: '--name: 1-100 characters',
  invalid_roles: `--role: one or more of ${OPERATOR_ROLES.join(', ')}`,
  exists: 'an operator with this login already exists',
  not_found: 'no such operator',
  weak_password: 'the password is too weak',
  conflict: 'the operator list was changed concurrently; try again',
};

/** Who ran the command, for the audit trail. */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export async function operatorsCommand(
  config: Config,
  action: string | undefined,
  args: string[],
  usage: (message: string) => Error,
): Promise<void> {
  if (!['add', 'list', 'remove', 'reset-password'].includes(action ?? '')) throw usage(`unknown operators command ${action ?? ''}`);
  let options: { login?: string; name?: string; role?: string[] } = {};
  if (action === 'add') {
    options = parseArgs({
      args,
      options: { login: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', multiple: true } },
      strict: true,
    }).values;
    if (!options.login || !options.name || !options.role?.length)
      throw usage('operators add needs --login, --name and at least one --role');
  } else if (action !== 'list' && !args[0]) throw usage(`which operator? operators ${action} LOGIN`);

  const store = await openStore(config.store);
  const actor = cliActor();
  const operators = new Operators(store.settings, new Limits(store, config.limits), {
    record: (input) => store.audit.append(auditEvent(input)),
  });
  try {
    if (action === 'add') {
      const { operator, password } = await operators.add({ login: options.login!, name: options.name!, roles: options.role! }, actor);
      console.log(`operator ${operator.login} added (${operator.roles.join(', ')})`);
      console.log(`password: ${password}\n(shown once: hand it to ${operator.name} in person; they sign in at ${config.issuer}/operator)`);
    } else if (action === 'list') {
      const list = await operators.list();
      if (!list.length) return console.log('no operators yet: operators add --login … --name … --role …');
      for (const o of list) console.log(`${o.login}\t${o.roles.join(',')}\t${o.name}\tcreated ${o.createdAt}`);
    } else if (action === 'remove') {
      await operators.remove(args[0]!, actor);
      console.log(`operator ${args[0]} removed; their sessions have ended`);
    } else {
      const password = await operators.resetPassword(args[0]!, actor);
      console.log(`new password for ${args[0]}: ${password}\n(shown once; their open sessions have ended)`);
    }
  } catch (err) {
    if (err instanceof OperatorError) throw usage(PROBLEMS[err.code]);
    throw err;
  } finally {
    await store.close();
  }
}
