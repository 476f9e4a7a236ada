// A RegistryStorage that times every operation of another one, for /metrics, and follows upload sessions
// from start to end; the backends themselves know nothing of metrics.
import { isRegistryError } from './errors.js';
import type { RegistryMetrics } from './_metrics.js';
import type { RegistryStorage, UploadStatus } from './storage/types.js';

const STORES = ['blobs', 'uploads', 'links', 'manifests', 'tags'] as const;

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' && !(v instanceof Promise);
}

/** The same iteration, timed from the call to its end (or to an error, or to the consumer stopping early). */
async function* timedIteration<T>(source: AsyncIterable<T>, done: (ok: boolean) => void): AsyncGenerator<T> {
  let ok = false;
  try {
    yield* source;
    ok = true;
  } finally {
    done(ok);
  }
}

/** `target` with each method timed as `<name>.<method>`; other properties as they are. */
function timed<T extends object>(target: T, name: string, metrics: RegistryMetrics): T {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      let wrapper = wrappers.get(prop);
      if (!wrapper) {
        const operation = name === '' ? prop : `${name}.${prop}`;
        const fn = value as (...args: unknown[]) => unknown;
        wrapper = (...args: unknown[]): unknown => {
          const start = performance.now();
          const done = (ok: boolean) => metrics.storageOperation(operation, ok, (performance.now() - start) / 1000);
          let result: unknown;
          try {
            result = fn.apply(t, args);
          } catch (e) {
            done(false);
            throw e;
          }
          if (result instanceof Promise) {
            return result.then(
              (v: unknown) => {
                done(true);
                return v;
              },
              (e: unknown) => {
                done(false);
                throw e;
              },
            );
          }
          if (isAsyncIterable(result)) return timedIteration(result, done);
          done(true);
          return result;
        };
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}

/** Upload sessions: started by create, ended by finish (either way: a failed digest drops the session) or cancel. */
function followUploads(uploads: RegistryStorage['uploads'], metrics: RegistryMetrics): RegistryStorage['uploads'] {
  return new Proxy(uploads, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (prop === 'create') {
        return async (repository: string): Promise<UploadStatus> => {
          const s = await t.create(repository);
          metrics.uploadStarted(s.repository, s.id);
          return s;
        };
      }
      if (prop === 'finish') {
        return async (repository: string, id: string, digest: string) => {
          try {
            const info = await t.finish(repository, id, digest);
            metrics.uploadEnded(repository, id, 'completed');
            return info;
          } catch (e) {
            if (isRegistryError(e, 'DIGEST_INVALID')) metrics.uploadEnded(repository, id, 'failed');
            throw e;
          }
        };
      }
      if (prop === 'cancel') {
        return async (repository: string, id: string) => {
          await t.cancel(repository, id);
          metrics.uploadEnded(repository, id, 'cancelled');
        };
      }
      return value;
    },
  });
}

export function instrumentStorage(storage: RegistryStorage, metrics: RegistryMetrics): RegistryStorage {
  const stores = Object.fromEntries(
    STORES.map((name) => {
      const store = timed(storage[name], name, metrics);
      return [name, name === 'uploads' ? followUploads(store as RegistryStorage['uploads'], metrics) : store];
    }),
  );
  const top = timed(storage, '', metrics);
  return new Proxy(top, {
    get(t, prop, receiver) {
      if (typeof prop === 'string' && prop in stores) return stores[prop];
      return Reflect.get(t, prop, receiver);
    },
  });
}
