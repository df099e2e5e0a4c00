/**
 * The Store port with every operation timed (issue 14): wrapped once, at the composition root, so
 * adapters and callers stay unaware. Repositories (`store.accounts`, …) and the adapters handed to
 * node-oidc-provider (`store.oidcAdapter(model)`) are wrapped; methods run on the real objects.
 */
import type { Store } from '../store.ts';

export type StoreObserver = (repository: string, operation: string, seconds: number, ok: boolean) => void;

/** Times every method call of `target` (sync or async) under `repository`. */
function timed<T extends object>(target: T, repository: string, observe: StoreObserver): T {
  // Keyed by the method itself, not its name: a method replaced on the target later (a test's hook,
  // a hot swap) is what gets called and timed, never a wrapper of the one read first.
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      let fn = wrapped.get(value);
      if (!fn) {
        const method = value as (...args: unknown[]) => unknown;
        const done = (start: number, ok: boolean) => observe(repository, prop, (performance.now() - start) / 1000, ok);
        fn = (...args: unknown[]) => {
          const start = performance.now();
          let result: unknown;
          try {
            result = method.apply(t, args);
          } catch (err) {
            done(start, false);
            throw err;
          }
          // Observed on the side: the caller gets the very promise the store returned, so the wrapper
          // adds no turn of the event loop (the order of parallel requests' store calls stays as it was).
          if (result instanceof Promise)
            result.then(
              () => done(start, true),
              () => done(start, false),
            );
          else done(start, true);
          return result;
        };
        wrapped.set(value, fn);
      }
      return fn;
    },
  });
}

export function instrumentStore(store: Store, observe: StoreObserver): Store {
  const repositories = new Map<PropertyKey, unknown>();
  const adapters = new Map<string, unknown>();
  const own = timed(store, 'store', observe);
  const oidcAdapter = (model: string) => {
    let adapter = adapters.get(model);
    if (!adapter) adapters.set(model, (adapter = timed(store.oidcAdapter(model), `oidc.${model}`, observe)));
    return adapter;
  };
  return new Proxy(store, {
    get(t, prop) {
      if (prop === 'oidcAdapter') return oidcAdapter;
      // rate-limiter-flexible limiters keep their own store calls; left as they are.
      if (prop === 'rateLimiter' || prop === 'kind') return Reflect.get(t, prop, t);
      const value = Reflect.get(t, prop, t) as unknown;
      if (typeof value === 'function') return Reflect.get(own, prop);
      if (value && typeof value === 'object' && typeof prop === 'string') {
        let repo = repositories.get(prop);
        if (!repo) repositories.set(prop, (repo = timed(value, prop, observe)));
        return repo;
      }
      return value;
    },
  });
}
