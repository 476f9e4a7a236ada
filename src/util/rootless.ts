import { readFileSync } from 'node:fs';

/**
 * A berth run by an ordinary user re-executes itself inside that user's namespace (see
 * runtime/userns.ts), where it is UID 0. These variables, set for that re-execution, carry who the
 * user really is: inside, `process.getuid()` says 0 and cannot tell a rootless berth from root's.
 */
export const ROOTLESS_UID_ENV = '_BERTH_ROOTLESS_UID';
export const ROOTLESS_GID_ENV = '_BERTH_ROOTLESS_GID';

export interface RootlessIds {
  uid: number;
  gid: number;
}

let cached: RootlessIds | null | undefined;

/**
 * The user's own UID and GID when berth runs rootless (as that user, or inside its namespace),
 * undefined when it runs as root. The variables alone are not trusted: a root process that
 * inherited them (or was handed them) must not take a user's store for its own, so they count only
 * where the process really is in a user namespace other than the host's.
 */
export function rootlessIds(env: NodeJS.ProcessEnv = process.env): RootlessIds | undefined {
  if (cached !== undefined && env === process.env) return cached ?? undefined;
  const ids = findRootlessIds(env);
  if (env === process.env) cached = ids ?? null;
  return ids;
}

function findRootlessIds(env: NodeJS.ProcessEnv): RootlessIds | undefined {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? uid };
  const outerUid = Number(env[ROOTLESS_UID_ENV]);
  const outerGid = Number(env[ROOTLESS_GID_ENV]);
  if (!Number.isInteger(outerUid) || outerUid <= 0 || !Number.isInteger(outerGid) || outerGid < 0) return undefined;
  return insideUserNamespaceOf(outerUid) ? { uid: outerUid, gid: outerGid } : undefined;
}

/** Whether this process's UID 0 is `uid` on the host: the first line of its uid_map says so. */
function insideUserNamespaceOf(uid: number): boolean {
  try {
    const first = readFileSync('/proc/self/uid_map', 'utf8').trim().split('\n')[0]?.trim().split(/\s+/);
    return first?.[0] === '0' && first[1] === String(uid);
  } catch {
    return false;
  }
}

/** Whether berth runs without root: as a user, or as root inside a user's namespace. */
export const isRootless = (env: NodeJS.ProcessEnv = process.env): boolean => rootlessIds(env) !== undefined;

/**
 * A rootless user's default run root, which also holds the user namespace's pause process file:
 * $XDG_RUNTIME_DIR/berth, or /tmp/berth-UID where a login gave no runtime directory.
 */
export function rootlessRunRoot(ids: RootlessIds, env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_RUNTIME_DIR ? `${env.XDG_RUNTIME_DIR.replace(/\/+$/, '')}/berth` : `/tmp/berth-${ids.uid}`;
}
