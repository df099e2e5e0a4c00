/**
 * Reading the audit trail (issue 14) for the admin API (`GET /admin/api/audit`) and the CLI
 * (`vkhod audit`): the filters validated (account, type or `family.*`, a time range, a bounded
 * page size, the cursor of the previous page), then one page of the store's answer, newest first.
 * A bad parameter is a UserError naming a message in `views/locales/*.json` (`admin.errors.audit_*`).
 */
import { z } from 'zod';
import { AUDIT_PAGE_MAX, type AuditLog, type AuditPage, type AuditQuery } from '../store.ts';
import { UserError } from '../web/errors.ts';

export const AUDIT_PAGE_DEFAULT = 50;

/** A date (`2026-01-31`, midnight UTC) or a date-time with its offset (`2026-01-31T10:00:00+03:00`). */
const instant = (key: string) =>
  z
    .string({ error: key })
    .max(40, { error: key })
    .refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) || z.iso.datetime({ offset: true }).safeParse(v).success, { error: key })
    .transform((v) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v))
    .refine((d) => !Number.isNaN(d.getTime()), { error: key })
    .transform((d) => d.toISOString());

export const auditQuerySchema = z
  .strictObject(
    {
      account: z
        .string({ error: 'admin.errors.audit_account' })
        .regex(/^[A-Za-z0-9._:-]{1,100}$/, { error: 'admin.errors.audit_account' })
        .optional(),
      type: z
        .string({ error: 'admin.errors.audit_type' })
        .max(100, { error: 'admin.errors.audit_type' })
        .regex(/^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/, { error: 'admin.errors.audit_type' })
        .optional(),
      since: instant('admin.errors.audit_time').optional(),
      until: instant('admin.errors.audit_time').optional(),
      limit: z
        .string({ error: 'admin.errors.audit_limit' })
        .regex(/^\d{1,4}$/, { error: 'admin.errors.audit_limit' })
        .transform(Number)
        .refine((n) => n >= 1 && n <= AUDIT_PAGE_MAX, { error: 'admin.errors.audit_limit' })
        .optional(),
      cursor: z
        .string({ error: 'admin.errors.audit_cursor' })
        .regex(/^[A-Za-z0-9_-]{1,400}$/, { error: 'admin.errors.audit_cursor' })
        .optional(),
    },
    { error: 'admin.errors.audit_params' },
  )
  .refine((q) => !q.since || !q.until || q.since < q.until, { error: 'admin.errors.audit_range' });

export type AuditFilters = z.output<typeof auditQuerySchema>;

/** Query-string values (each given once) → the store's query; the first problem is a 400. */
export function auditQuery(input: Record<string, unknown>): AuditQuery {
  for (const [name, value] of Object.entries(input)) {
    if (Array.isArray(value)) throw new UserError(400, 'admin.errors.audit_repeated', { name });
  }
  const parsed = auditQuerySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new UserError(400, 'admin.errors.audit_params', { names: issue.keys.join(', ') });
    throw new UserError(400, issue.message.startsWith('admin.errors.') ? issue.message : 'admin.errors.audit_params', {
      names: issue.path.join('.'),
      max: AUDIT_PAGE_MAX,
    });
  }
  const q = parsed.data;
  return {
    ...(q.account ? { accountId: q.account } : {}),
    ...(q.type ? { type: q.type } : {}),
    ...(q.since ? { since: q.since } : {}),
    ...(q.until ? { until: q.until } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
    limit: q.limit ?? AUDIT_PAGE_DEFAULT,
  };
}

/** One page; a cursor the store does not recognise is the caller's mistake (400), not a 500. */
export async function readAudit(log: AuditLog, query: AuditQuery): Promise<AuditPage> {
  try {
    return await log.query(query);
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(400, 'admin.errors.audit_cursor');
    throw err;
  }
}
