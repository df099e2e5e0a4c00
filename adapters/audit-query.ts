/**
 * What both adapters share to answer an audit query the same way (src/store.ts AuditQuery): the
 * page cursor (the last event's `at` and `id`, opaque to callers) and the type filter (an exact
 * type, or a family `admin.*` as a range over the type index).
 */
import { AUDIT_PAGE_MAX, type AuditCursor, type AuditQuery } from '../src/store.ts';

export function encodeCursor(cursor: AuditCursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');
}

/** The cursor, or undefined when absent; throws RangeError on one that is not ours. */
export function decodeCursor(value: string | undefined): AuditCursor | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string')
      return { at: parsed[0], id: parsed[1] };
  } catch {
    // not JSON
  }
  throw new RangeError('not an audit cursor');
}

/** `{ exact }` for a plain type, `{ from, to }` (from ≤ type < to) for a family ending in `*`, or nothing. */
export function typeFilter(type: string | undefined): { exact: string } | { from: string; to: string } | undefined {
  if (!type || type === '*') return undefined;
  if (!type.endsWith('*')) return { exact: type };
  const from = type.slice(0, -1);
  const last = from.charCodeAt(from.length - 1);
  return { from, to: from.slice(0, -1) + String.fromCharCode(last + 1) };
}

/** The page size to read: one more than asked (to know whether there is a next page), bounded. */
export function pageSize(query: AuditQuery): number {
  return Math.max(1, Math.min(AUDIT_PAGE_MAX, Math.floor(query.limit) || 1));
}
