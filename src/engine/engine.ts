import { loadBerthConfig } from '../config/berth-config.js';
import { Store } from '../store/store.js';
import { configDirs, defaultRoot, defaultRunRoot } from '../store/paths.js';

export interface EngineOptions {
  root?: string;
  runRoot?: string;
  /** Where berth.toml is looked for; defaults to /etc/berth and ~/.config/berth. */
  configDirs?: string[];
}

/** Store paths: a flag wins, then BERTH_ROOT / BERTH_RUNROOT, then berth.toml, then the default. */
export async function resolveStorePaths(opts: EngineOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ root: string; runRoot: string }> {
  const config = await loadBerthConfig(opts.configDirs ?? configDirs(env));
  return {
    root: opts.root ?? env.BERTH_ROOT ?? config.storage.root ?? defaultRoot({ ...env, BERTH_ROOT: '' }),
    runRoot: opts.runRoot ?? env.BERTH_RUNROOT ?? config.storage.runroot ?? defaultRunRoot({ ...env, BERTH_RUNROOT: '' }),
  };
}

/** Opens the store for one command and closes it (sweeping this process's temp space) after. */
export async function withStore<T>(opts: EngineOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(await resolveStorePaths(opts));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Opens the store for a caller that keeps it open (the API service) and closes it itself. It reads
 * the same records on every request, so the store keeps them in memory while they are unchanged.
 */
export async function openStore(opts: EngineOptions): Promise<Store> {
  return Store.open({ ...(await resolveStorePaths(opts)), cacheReads: true });
}
