/**
 * `vkhod accounts …`: deleting a citizen's account for an operator (a written request, a court
 * order), with a reason — the same as the cabinet's deletion and the admin API's.
 *
 *   accounts delete ACCOUNT_ID --reason "…"   deactivate now, erase after VKHOD_DELETION_GRACE_DAYS
 *   accounts restore ACCOUNT_ID               cancel a deletion still in its grace
 *   accounts erase-due                        erase every account whose grace has ended, now
 *
 * The running vkhod erases due accounts by itself every 10 minutes; `erase-due` is for a
 * deployment that prefers a cron job, or to run it at once.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Config } from '../../config/load.ts';
import { openStore } from '../../adapters/open.ts';
import { AccountDeletion } from '../../src/accounts/account-deletion.ts';
import { Accounts } from '../../src/accounts/accounts.ts';
import { auditEvent } from '../../src/security/audit.ts';

export const ACCOUNTS_USAGE = `  accounts delete ACCOUNT_ID --reason "..."
  accounts restore ACCOUNT_ID
  accounts erase-due`;

function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export async function accountsCommand(
  config: Config,
  action: string | undefined,
  args: string[],
  usage: (message: string) => Error,
): Promise<void> {
  if (!['delete', 'restore', 'erase-due'].includes(action ?? '')) throw usage(`unknown accounts command ${action ?? ''}`);
  const { values, positionals } = parseArgs({ args, options: { reason: { type: 'string' } }, allowPositionals: true, strict: true });
  const id = positionals[0];
  if (action !== 'erase-due' && !id) throw usage(`which account? accounts ${action} ACCOUNT_ID`);
  const reason = values.reason?.trim();
  if (action === 'delete' && (!reason || reason.length > 500))
    throw usage('accounts delete needs --reason "..." (1-500 characters): why the account is deleted');
  const store = await openStore(config.store);
  try {
    const deletion = new AccountDeletion(
      store,
      new Accounts(store),
      {
        record: async (e) => {
          const event = auditEvent(e);
          await store.audit.append(event);
          return event;
        },
      },
      config.deletionGraceDays,
    );
    if (action === 'erase-due') {
      console.log(`erased ${await deletion.eraseDue()} account(s)`);
    } else if (action === 'delete') {
      const account = await deletion.request(id!, { actor: cliActor(), reason });
      if (!account) throw new Error(`no active account ${id}`);
      console.log(
        `account ${id} deactivated; its data will be erased after ${account.deletion!.eraseAfter} unless the citizen signs in and restores it`,
      );
    } else {
      const account = await deletion.cancel(id!, { actor: cliActor() });
      if (!account) throw new Error(`no account ${id} waiting for erasure`);
      console.log(`account ${id} restored`);
    }
  } finally {
    await store.close();
  }
}
