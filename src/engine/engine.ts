import { Store } from '../store/store.js';
import { defaultRoot, defaultRunRoot } from '../store/paths.js';

export interface EngineOptions {
  root?: string;
  runRoot?: string;
}

/** Opens the store for one command and closes it (sweeping this process's temp space) after. */
export async function withStore<T>(opts: EngineOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open({ root: opts.root ?? defaultRoot(), runRoot: opts.runRoot ?? defaultRunRoot() });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
