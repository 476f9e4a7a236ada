import { homedir } from 'node:os';
import { join } from 'node:path';
import { rootlessIds, rootlessRunRoot } from '../util/rootless.js';

/**
 * Where images live: --root, then BERTH_ROOT, then /var/lib/berth for root or the XDG data dir
 * of a rootless user (inside its namespace too, where berth runs as UID 0: HOME and XDG_* are the
 * user's, kept by the re-execution), so a rootless store and root's never share files.
 */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_ROOT) return env.BERTH_ROOT;
  if (!rootlessIds(env)) return '/var/lib/berth';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'berth');
}

/** Volatile state (gone after a reboot): /run/berth, or $XDG_RUNTIME_DIR/berth (/tmp/berth-UID) rootless. */
export function defaultRunRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_RUNROOT) return env.BERTH_RUNROOT;
  const ids = rootlessIds(env);
  return ids ? rootlessRunRoot(ids, env) : '/run/berth';
}

/** Config files, lowest precedence first. */
export function configDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return ['/etc/berth', join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'berth')];
}
