/**
 * Deterministic races: the store's reads of one model are held until `parties` requests have
 * read, so every request sees the same state before any of them writes (what a load balancer's
 * parallel retries do on an unlucky day). No timing involved.
 */
import type { Harness } from './harness.ts';

export function holdReads(h: Harness, model: string, parties: number): () => void {
  const adapter = h.services.store.oidcAdapter(model) as { find: (id: string) => Promise<unknown> };
  const original = adapter.find;
  let waiting: Array<() => void> | undefined = [];
  adapter.find = async function find(this: unknown, id: string) {
    const found = await original.call(this, id);
    const queue = waiting;
    if (queue) {
      await new Promise<void>((resolve) => {
        queue.push(resolve);
        if (queue.length === parties) {
          waiting = undefined;
          for (const release of queue) release();
        }
      });
    }
    return found;
  };
  return () => {
    adapter.find = original;
  };
}
