/**
 * `vkhod audit …`: reading the audit trail (issue 14), the same filters as the admin API's
 * `GET /admin/api/audit`:
 *
 *   audit [--account ID] [--type TYPE|family.*] [--since WHEN] [--until WHEN] [--limit N] [--cursor C] [--json]
 *
 * Newest first, one page (default 50, at most 500); when there is more, the last line is
 * `next: --cursor …` to pass for the following page. `--json` prints one event per line (JSON
 * Lines) and the cursor on stderr.
 */
import { VIEWS_DIR } from '../../config/package-root.ts';
import { parseArgs } from 'node:util';
import type { Config } from '../../config/load.ts';
import { openStore } from '../../adapters/open.ts';
import { auditQuery, readAudit } from '../../src/admin/audit-query.ts';
import type { AuditEvent } from '../../src/store.ts';
import { UserError } from '../../src/web/errors.ts';
import { Messages } from '../../src/web/i18n.ts';

export const AUDIT_USAGE = `  audit [--account ID] [--type TYPE|family.*] [--since DATE|DATETIME] [--until DATE|DATETIME]
        [--limit N] [--cursor CURSOR] [--json]`;

/** One line of the table: time, type, outcome, actor, account, client, IP, reason, event id. */
function line(e: AuditEvent): string {
  return [e.at, e.type, e.outcome ?? '-', e.actor ?? '-', e.accountId ?? '-', e.clientId ?? '-', e.ip ?? '-', e.reason ?? '-', e.id].join(
    '\t',
  );
}

export async function auditCommand(config: Config, args: string[], usage: (message: string) => Error): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      account: { type: 'string' },
      type: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const { json, ...filters } = values;
  let query;
  try {
    query = auditQuery(Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)));
  } catch (err) {
    if (err instanceof UserError) throw usage(new Messages(VIEWS_DIR).t('en', err.messageKey, err.params));
    throw err;
  }
  const store = await openStore(config.store);
  try {
    const page = await readAudit(store.audit, query).catch((err: unknown) => {
      if (err instanceof UserError) throw usage(new Messages(VIEWS_DIR).t('en', err.messageKey, err.params));
      throw err;
    });
    if (json) {
      for (const e of page.events) console.log(JSON.stringify(e));
      if (page.next) console.error(`next: --cursor ${page.next}`);
      return;
    }
    if (!page.events.length) return console.log('no events');
    console.log(['at', 'type', 'outcome', 'actor', 'account', 'client', 'ip', 'reason', 'id'].join('\t'));
    for (const e of page.events) console.log(line(e));
    if (page.next) console.log(`next: --cursor ${page.next}`);
  } finally {
    await store.close();
  }
}
