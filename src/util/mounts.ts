import { execFileAsync as exec } from './exec-file.js';
import { readFileSync } from 'node:fs';
import { BerthError, errnoCode } from './errors.js';
import { makeDirs } from './dirs.js';
import { MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID, nativeCalls } from './native.js';

/** Whether something is mounted at `path` in this mount namespace. */
export async function isMounted(path: string): Promise<boolean> {
  // One synchronous read: the kernel makes the text at once, the pool's readFile takes four round trips.
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === path);
}

/**
 * Unmounts everything stacked at `path` (nothing there is fine): plainly first, lazily once a
 * busy mount has been tried three times, waiting a little longer each time. `what` names the
 * mount in the error.
 */
export async function unmountAll(path: string, what = path): Promise<void> {
  for (let attempt = 0; await isMounted(path); attempt++) {
    try {
      const lazy = attempt >= 3;
      // The system call where the addon is built: no `umount` child (a fork of the whole process).
      const native = nativeCalls();
      if (native) await native.umount(path, lazy ? MNT_DETACH : 0);
      else await exec('umount', lazy ? ['-l', path] : [path]);
    } catch (e) {
      if (attempt >= 5) {
        // The program's stderr, or the system call's `umount2: <reason>`.
        const reason = (e as { stderr?: string }).stderr?.trim() || (e as Error).message || errnoCode(e);
        throw new BerthError('IO', `unmounting ${what}: ${reason}`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
}

/**
 * A tmpfs at `path` (made if missing; one mounted there already is kept), nosuid, nodev and noexec,
 * with tmpfs's own `options` (`mode=1777,size=65536k`).
 */
export async function mountTmpfs(path: string, options: string): Promise<void> {
  if (await isMounted(path)) return;
  await makeDirs(path);
  const native = nativeCalls();
  if (native) await native.mount('tmpfs', path, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, options);
  else await exec('mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,${options}`, 'tmpfs', path]);
}
