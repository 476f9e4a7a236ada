import { homedir } from 'node:os';
import { join } from 'node:path';

const isRoot = () => process.getuid?.() === 0;

/** Where images live: --root, then BERTH_ROOT, then /var/lib/berth for root or the XDG data dir. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_ROOT) return env.BERTH_ROOT;
  if (isRoot()) return '/var/lib/berth';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'berth');
}

/** Volatile state (gone after a reboot): /run/berth or $XDG_RUNTIME_DIR/berth. */
export function defaultRunRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_RUNROOT) return env.BERTH_RUNROOT;
  if (isRoot()) return '/run/berth';
  return join(env.XDG_RUNTIME_DIR || join('/tmp', `berth-run-${process.getuid?.() ?? 0}`), 'berth');
}

/** Config files, lowest precedence first. */
export function configDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return ['/etc/berth', join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'berth')];
}
