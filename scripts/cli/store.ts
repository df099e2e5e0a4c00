/**
 * `vkhod store …`: moving what outlives a session between stores (issue 14) — the way from the
 * embedded SQLite default to a MongoDB replica set (docs/operations.md), or between two files.
 *
 *   store export FILE            every account (with its keys and consents), audit event, setting
 *                                (signing keys, operators), letter, relying party (tombstones and
 *                                secret hashes too) and ESIA oid (with the oid sequence) of the store
 *   store import FILE [--force]  into the configured store; refuses one that holds data unless --force
 *   store version                the schema version of the configured store
 *
 * The file is JSON Lines (created 0600: it holds personal data and the sealed keys): a header, one
 * record per line, and a trailer with the counts and a checksum. The checksum is the XOR of the
 * SHA-256 of each record's canonical JSON (keys sorted), so it does not depend on the order: the
 * export prints it, the import checks the file against it and then recomputes it from the target.
 * Short-lived things (sessions, tokens, codes, rate-limit counters, used ESIA states) are not moved.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Config } from '../../config/load.ts';
import { openStore } from '../../adapters/open.ts';
import type { Store, TransferRecord } from '../../src/store.ts';

export const STORE_USAGE = `  store export FILE
  store import FILE [--force]
  store version`;

const FORMAT = 'vkhod-store-export';
/** 2: relying parties and ESIA oids too (an older vkhod refuses the file by its version; this one still reads version 1). */
const FORMAT_VERSION = 2;
const BATCH = 500;

type Kind = TransferRecord['kind'];
type Counts = Record<Kind, number>;
const zero = (): Counts => ({ account: 0, audit: 0, setting: 0, letter: 0, client: 0, 'esia-oid': 0, 'esia-oid-sequence': 0 });
const KINDS = Object.keys(zero());
/** What a store holds, in words (the oid sequence goes with the oids). */
const describeCounts = (c: Counts): string =>
  `${c.account} accounts, ${c.audit} audit events, ${c.setting} settings, ${c.letter} letters, ${c.client} clients, ${c['esia-oid']} ESIA oids`;

/** JSON with object keys sorted at every level: one text per value, whichever store produced it. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Counts and the order-independent checksum of a stream of records. */
export class TransferDigest {
  readonly counts = zero();
  private readonly sum = Buffer.alloc(32);

  add(record: TransferRecord): void {
    this.counts[record.kind] += 1;
    const digest = createHash('sha256').update(canonicalJson(record)).digest();
    for (let i = 0; i < 32; i++) this.sum[i]! ^= digest[i]!;
  }

  get checksum(): string {
    return this.sum.toString('hex');
  }

  describe(): string {
    return describeCounts(this.counts);
  }
}

export async function digestOf(store: Store): Promise<TransferDigest> {
  const digest = new TransferDigest();
  for await (const record of store.transfer.exportRecords()) digest.add(record);
  return digest;
}

async function exportTo(store: Store, file: string): Promise<void> {
  if (existsSync(file)) throw new Error(`${file} exists already: choose a new file`);
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  const digest = new TransferDigest();
  await write(
    JSON.stringify({
      format: FORMAT,
      version: FORMAT_VERSION,
      source: store.kind,
      schemaVersion: store.schemaVersion,
      at: new Date().toISOString(),
    }),
  );
  for await (const record of store.transfer.exportRecords()) {
    digest.add(record);
    await write(JSON.stringify(record));
  }
  await write(JSON.stringify({ end: true, counts: digest.counts, checksum: digest.checksum }));
  out.end();
  await once(out, 'finish');
  console.log(`exported ${digest.describe()} from the ${store.kind} store to ${file}`);
  console.log(`checksum ${digest.checksum}`);
}

function isRecord(value: unknown): value is TransferRecord {
  const r = value as { kind?: unknown } | null;
  return typeof r === 'object' && r !== null && KINDS.includes(r.kind as string);
}

/**
 * Reads an export, handing each record to `onRecord`; throws on a damaged file (not JSON, no
 * header or end marker, records that do not match the end marker's counts and checksum).
 */
async function readExport(file: string, onRecord: (record: TransferRecord) => Promise<void>): Promise<TransferDigest> {
  type Header = { format?: unknown; version?: unknown };
  type Trailer = { end?: unknown; counts?: Counts; checksum?: string };
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  const digest = new TransferDigest();
  let header: Header | undefined;
  let trailer: Trailer | undefined;
  let lineNo = 0;
  for await (const text of lines) {
    lineNo += 1;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`${file}:${lineNo}: not JSON: the file is damaged`);
    }
    if (!header) {
      header = value as Header;
      if (header?.format !== FORMAT) throw new Error(`${file}: not a vkhod store export`);
      if (typeof header.version !== 'number' || header.version > FORMAT_VERSION)
        throw new Error(`${file}: export format ${String(header.version)} is newer than this vkhod reads (${FORMAT_VERSION})`);
      continue;
    }
    if (trailer) throw new Error(`${file}:${lineNo}: data after the end marker: the file is damaged`);
    if ((value as { end?: unknown }).end === true) {
      trailer = value as Trailer;
      continue;
    }
    if (!isRecord(value)) throw new Error(`${file}:${lineNo}: not a record of a store export`);
    digest.add(value);
    await onRecord(value);
  }
  if (!header) throw new Error(`${file}: empty file`);
  if (!trailer) throw new Error(`${file}: no end marker: the export was cut short`);
  // an export made before clients and ESIA oids were moved has no count for them: zero
  const counts = { ...zero(), ...trailer.counts };
  if (trailer.checksum !== digest.checksum || canonicalJson(counts) !== canonicalJson(digest.counts))
    throw new Error(`${file}: the records do not match the export's counts and checksum: the file is damaged`);
  return digest;
}

async function importFrom(store: Store, file: string, force: boolean): Promise<void> {
  if (!existsSync(file)) throw new Error(`${file}: no such file`);
  const before = await store.transfer.counts();
  const held = Object.values(before).reduce((a, b) => a + b, 0);
  if (held > 0 && !force)
    throw new Error(
      `the ${store.kind} store is not empty (${describeCounts(before)}): import into an empty store, or pass --force to replace records with the same ids`,
    );
  // First the whole file is checked against its end marker: a damaged file writes nothing.
  await readExport(file, async () => undefined);
  let batch: TransferRecord[] = [];
  const digest = await readExport(file, async (record) => {
    batch.push(record);
    if (batch.length < BATCH) return;
    await store.transfer.importRecords(batch);
    batch = [];
  });
  if (batch.length) await store.transfer.importRecords(batch);
  console.log(`imported ${digest.describe()} into the ${store.kind} store`);
  console.log(`checksum ${digest.checksum}`);
  const target = await digestOf(store);
  if (held === 0) {
    if (target.checksum !== digest.checksum || canonicalJson(target.counts) !== canonicalJson(digest.counts))
      throw new Error(`the store now holds ${target.describe()}, checksum ${target.checksum}: not what was exported`);
    console.log('verified: the store holds exactly what was exported (counts and checksum match)');
  } else {
    console.log(`the store held data before (--force): it now holds ${target.describe()}, checksum ${target.checksum}`);
  }
}

export async function storeCommand(
  config: Config,
  action: string | undefined,
  args: string[],
  usage: (message: string) => Error,
): Promise<void> {
  if (!['export', 'import', 'version'].includes(action ?? '')) throw usage(`unknown store command ${action ?? ''}`);
  const { values, positionals } = parseArgs({ args, options: { force: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const file = positionals[0];
  if (action !== 'version' && !file) throw usage(`which file? store ${action} FILE`);
  if (action === 'export' && values.force) throw usage('--force is for store import');
  const store = await openStore(config.store);
  try {
    if (action === 'version') console.log(`${store.kind} store, schema version ${store.schemaVersion}`);
    else if (action === 'export') await exportTo(store, file!);
    else await importFrom(store, file!, values.force === true);
  } finally {
    await store.close();
  }
}
