import { spawn } from 'node:child_process';
import { lstat, mkdir, readFile, readlink, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { BerthError } from '../util/errors.js';
import { execFileAsync } from '../util/exec-file.js';
import { DirLock } from '../util/lock.js';
import { processStartTime } from '../util/process.js';
import type { RootlessIds } from '../util/rootless.js';
import { findExecutable } from './oci-runtime.js';
import { idMapArgs, readSubids, type SubidRange } from './subids.js';

/**
 * A rootless user's namespace: one user namespace (the user as 0, the subordinate ranges from 1)
 * with its own mount namespace, held open by a pause process, as rootless podman keeps one. Every
 * berth command of that user joins it, so all see the same mapping and the same mounts (a
 * container's root mounted by `start` is still mounted for the `stop` that follows). The process is
 * named in `<run root>/pause.pid` with its start time, so a reused PID is never joined.
 */
export interface UserNamespaceMaps {
  uids: SubidRange[];
  gids: SubidRange[];
}

const pauseFile = (runRoot: string) => join(runRoot, 'pause.pid');

/**
 * The pause process: it holds the namespace while anything needs it and ends once nothing has for
 * two checks in a row: no other process in its user namespace (containers, conmon, a berth
 * command, the rootless network's helpers) and no mount made in its mount namespace since it
 * began (a container's root, an `image mount`, a pinned network namespace: more lines in its
 * mountinfo than it started with; mount IDs are reused, so a new mount's may be lower than the
 * old ones'). sh builtins only, but the sleep between checks: `-ef` compares the namespaces' inodes.
 */
const PAUSE_SCRIPT = `
every=$1 file=$2 base=0 idle=0
while read -r line; do base=$((base + 1)); done < /proc/self/mountinfo
while :; do
  sleep "$every"
  busy=
  for p in /proc/[0-9]*; do
    [ "$p" = "/proc/$$" ] && continue
    if [ "$p/ns/user" -ef "/proc/$$/ns/user" ] 2>/dev/null; then busy=1; break; fi
  done
  if [ -z "$busy" ]; then
    n=0
    while read -r line; do n=$((n + 1)); done < /proc/$$/mountinfo
    [ "$n" -gt "$base" ] && busy=1
  fi
  [ -n "$busy" ] && idle=0 && continue
  idle=$((idle + 1))
  if [ "$idle" -ge 2 ]; then
    # Unnamed first (if it is still the one named), so a command does not try to join it as it ends.
    read -r pid rest < "$file" && [ "$pid" = "$$" ] && : > "$file"
    exit 0
  fi
done`;

/**
 * unshare runs this first: it waits for berth's word that the maps are written, then becomes the
 * pause. Started before the maps, a program would run as the overflow ID without capabilities in
 * its own namespace (and could not look at the processes in it); started after, it is its root.
 * Without the word (berth gone), it ends.
 */
const AFTER_MAPS = 'read -r go || exit 1; exec /bin/sh -c "$0" berth-pause "$1" "$2"';

/** Seconds between the pause's checks: BERTH_PAUSE_CHECK_SECONDS (for tests), else a minute. */
function pauseIdleSeconds(): number {
  const n = Number(process.env.BERTH_PAUSE_CHECK_SECONDS);
  return Number.isInteger(n) && n > 0 ? n : 60;
}

/** The live pause process of this run root, if any. */
export async function findPause(runRoot: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(pauseFile(runRoot), 'utf8');
  } catch {
    return undefined;
  }
  const [pid, start] = text.trim().split(/\s+/);
  // The start time too: a PID reused by another process is not the pause; nor is one that ended
  // and waits to be reaped (its namespaces are gone).
  if (!pid || !/^\d+$/.test(pid) || processStartTime(Number(pid)) !== start) return undefined;
  const state = await readFile(`/proc/${pid}/stat`, 'utf8').then(
    (t) => t.slice(t.lastIndexOf(')') + 2, t.lastIndexOf(')') + 3),
    () => 'X',
  );
  return state === 'Z' || state === 'X' ? undefined : Number(pid);
}

/**
 * The run root holds the pause file, and under /tmp anyone could have made it first: it must be a
 * directory of this user's, which nobody else can write, before berth trusts what is in it.
 */
async function ownRunRoot(runRoot: string, ids: RootlessIds): Promise<void> {
  await mkdir(runRoot, { recursive: true, mode: 0o700 });
  const st = await lstat(runRoot);
  if (!st.isDirectory() || st.uid !== ids.uid || (st.mode & 0o022) !== 0) {
    throw new BerthError('USAGE', `${runRoot} is not a directory of your own that only you can write: remove it, or set XDG_RUNTIME_DIR`);
  }
}

/** The user's subordinate ranges, or the line that says how to get them. */
export async function userNamespaceMaps(ids: RootlessIds): Promise<UserNamespaceMaps> {
  const name = userInfo().username;
  const [uids, gids] = await Promise.all([readSubids('/etc/subuid', { name, id: ids.uid }), readSubids('/etc/subgid', { name, id: ids.uid })]);
  if (!uids.length)
    throw new BerthError(
      'USAGE',
      `no subordinate UIDs for ${name} in /etc/subuid: add a range, e.g. "${name}:100000:65536" (usermod --add-subuids 100000-165535 ${name})`,
    );
  if (!gids.length)
    throw new BerthError(
      'USAGE',
      `no subordinate GIDs for ${name} in /etc/subgid: add a range, e.g. "${name}:100000:65536" (usermod --add-subgids 100000-165535 ${name})`,
    );
  return { uids, gids };
}

/**
 * The user's pause process: the live one, or a new one made under the run root's lock (two first
 * commands at once make one namespace, not two).
 */
export async function ensurePause(runRoot: string, ids: RootlessIds): Promise<number> {
  await ownRunRoot(runRoot, ids);
  const live = await findPause(runRoot);
  if (live) return live;
  return new DirLock(join(runRoot, 'pause.lock')).with(async () => (await findPause(runRoot)) ?? (await startPause(runRoot, ids)));
}

async function startPause(runRoot: string, ids: RootlessIds): Promise<number> {
  const maps = await userNamespaceMaps(ids);
  const newuidmap = findExecutable('newuidmap');
  const newgidmap = findExecutable('newgidmap');
  if (!newuidmap || !newgidmap)
    throw new BerthError('USAGE', 'newuidmap and newgidmap are needed to run rootless: install the uidmap package (apt install uidmap)');
  const unshare = findExecutable('unshare');
  if (!unshare) throw new BerthError('USAGE', 'unshare (util-linux) is needed to run rootless');
  const pauseArgv = ['/bin/sh', '-c', AFTER_MAPS, PAUSE_SCRIPT, String(pauseIdleSeconds()), pauseFile(runRoot)];
  // Detached and in its own session: it outlives this command, and a terminal's signals don't reach it.
  const child = spawn(unshare, ['--user', '--mount', '--propagation', 'private', '--', ...pauseArgv], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin?.on('error', () => undefined);
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('error', (e) => reject(new BerthError('IO', `starting the user namespace: ${e.message}`, { cause: e })));
    child.once('spawn', () => resolve(child.pid!));
  });
  child.unref();
  try {
    await untilUnshared(pid);
    await mapIds(newuidmap, pid, ids.uid, maps.uids);
    await mapIds(newgidmap, pid, ids.gid, maps.gids);
    child.stdin?.end('go\n');
    const start = processStartTime(pid);
    if (!start) throw new BerthError('IO', 'the user namespace ended as it was made');
    await writeFileAtomic(pauseFile(runRoot), `${pid} ${start}\n`, 0o600, false);
    return pid;
  } catch (e) {
    process.kill(pid, 'SIGKILL');
    throw e;
  }
}

/** unshare(2) happens in the child after it starts; a map written before it would be the host's. */
async function untilUnshared(pid: number): Promise<void> {
  const ours = await readlink('/proc/self/ns/user');
  for (let i = 0; i < 400; i++) {
    const theirs = await readlink(`/proc/${pid}/ns/user`).catch(() => undefined);
    if (theirs === undefined) throw new BerthError('IO', 'unshare --user failed: user namespaces may be disabled (sysctl user.max_user_namespaces)');
    if (theirs !== ours) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new BerthError('IO', 'timed out making the user namespace');
}

async function mapIds(tool: string, pid: number, ownId: number, ranges: SubidRange[]): Promise<void> {
  try {
    await execFileAsync(tool, [String(pid), ...idMapArgs(ownId, ranges)]);
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? '')
      .trim()
      .split('\n')
      .at(-1);
    throw new BerthError('IO', `${tool.split('/').at(-1)} failed: ${stderr || (e as Error).message}`, { cause: e });
  }
}

/** Ends the user's pause process, so the next command makes the namespace anew (`system migrate`). */
export async function endPause(runRoot: string): Promise<boolean> {
  const pid = await findPause(runRoot);
  await rm(pauseFile(runRoot), { force: true });
  if (!pid) return false;
  process.kill(pid, 'SIGKILL');
  return true;
}

/**
 * The argv that runs `command` inside the pause's namespaces as their UID 0, in `cwd` (joining a
 * mount namespace moves a process to its root otherwise).
 */
export function joinArgv(pid: number, cwd: string, command: string[]): string[] {
  const nsenter = findExecutable('nsenter');
  if (!nsenter) throw new BerthError('USAGE', 'nsenter (util-linux) is needed to run rootless');
  return [nsenter, `--target=${pid}`, '--user', '--mount', `--wd=${cwd}`, '--', ...command];
}
