/**
 * State a hosted flow keeps between requests (a sign-in waiting for its second factor, a bank
 * round trip, a contact change…): typed records in the store's `VkhodFlow` model, one kind per
 * use, each with its id prefix and lifetime declared here once. docs/ARCHITECTURE.md ("Where
 * state lives") lists the same kinds; test/unit/flow-records.test.ts keeps the two in step.
 *
 * `take` ends a single-use record through the store's conditional consume: of two requests
 * racing for one record, exactly one gets it.
 */
import type { OidcPayload, Store } from '../store.ts';

const MODEL = 'VkhodFlow';

export interface FlowKind {
  /** The id prefix (`<kind>.<key>`); empty for the contact flows, whose ids are random and in the URL. */
  readonly kind: string;
  readonly ttlSeconds: number;
}

/** Every kind declared, for the documentation test. Static metadata, not state. */
const declared = new Map<string, FlowKind>();

export function declaredFlowKinds(): FlowKind[] {
  return [...declared.values()];
}

/** A kind of flow record holding `T`; bind it to the store with `in(store)`. */
export class FlowRecords<T extends object> implements FlowKind {
  constructor(
    readonly kind: string,
    readonly ttlSeconds: number,
  ) {
    const known = declared.get(kind);
    if (known && known.ttlSeconds !== ttlSeconds) throw new Error(`flow record kind ${kind} declared twice`);
    declared.set(kind, this);
  }

  id(key: string): string {
    return this.kind ? `${this.kind}.${key}` : key;
  }

  in(store: Pick<Store, 'oidcAdapter'>): BoundFlowRecords<T> {
    return new BoundFlowRecords<T>(this, store);
  }
}

export class BoundFlowRecords<T extends object> {
  constructor(
    private readonly records: FlowRecords<T>,
    private readonly store: Pick<Store, 'oidcAdapter'>,
  ) {}

  private get adapter() {
    return this.store.oidcAdapter(MODEL);
  }

  /** The live record, or undefined when there is none, it expired or it was taken. */
  async load(key: string): Promise<T | undefined> {
    const found = await this.inspect(key);
    return found && !found.used ? found.record : undefined;
  }

  /** The record while it lives, taken or not (a replay of a single-use one is told by `used`). */
  async inspect(key: string): Promise<{ record: T; used: boolean } | undefined> {
    const found = await this.adapter.find(this.records.id(key));
    if (!found) return undefined;
    const { consumed, ...record } = found;
    return { record: record as T, used: consumed !== undefined };
  }

  /** Saves (or replaces) the record for the kind's lifetime, counted from now. */
  async save(key: string, value: T): Promise<void> {
    await this.adapter.upsert(this.records.id(key), { ...value } as OidcPayload, this.records.ttlSeconds);
  }

  /**
   * Ends a single-use record and returns it — to this caller only: a parallel request taking the
   * same record gets undefined (the store's conditional consume decides).
   */
  async take(key: string): Promise<T | undefined> {
    const found = await this.load(key);
    if (!found) return undefined;
    return (await this.adapter.consume(this.records.id(key))) ? found : undefined;
  }

  /** Marks the record used without reading it; true when this caller ended it. */
  async consume(key: string): Promise<boolean> {
    return this.adapter.consume(this.records.id(key));
  }

  /** Removes the record (abandoned, or replaced by nothing). */
  async discard(key: string): Promise<void> {
    await this.adapter.destroy(this.records.id(key));
  }
}
