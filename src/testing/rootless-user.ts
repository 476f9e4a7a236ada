import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ok as runOk, run, SYNC_TIMEOUT_MS, unmountUnder, type RunOptions, type RunResult } from './cli.js';
import { openDevices, processStamp, releaseDevices, restoreDevicesIfUnheld, stampAlive, withStateLock } from './rootless-devices.js';

/**
 * An ordinary user for a rootless test, made and removed by the test: `useradd` with a subordinate
 * uid and gid range of its own, a runtime directory, and /dev/net/tun and /dev/fuse opened for the
 * run (rootless-devices.ts). Every name starts with USER_PREFIX and the account's comment names the
 * process that owns it, so a user whose owner was killed is swept by the next one made.
 */
export const USER_PREFIX = 'berth-rl-';
/** The size of each user's subordinate uid and gid range: what podman and useradd give by default. */
export const RANGE_SIZE = 65536;
/**
 * Ranges are picked above useradd's own window (SUB_UID_MIN..SUB_UID_MAX in login.defs, 100000 to
 * 600100000 on Debian), so that a user someone adds by hand meanwhile cannot be given the same, and
 * below 2^31, which some tools read as a signed number.
 */
const RANGE_BASE = 1_000_000_000;
const RANGE_SLOTS = 15_000;
/** The PATH of a login shell on Debian; /usr/local/bin first, where node and a local berth are. */
const USER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** How long the processes of a user being removed get to die after SIGKILL. */
const KILL_WAIT_MS = 10_000;

export interface IdRange {
  start: number;
  count: number;
}

export interface AsOptions extends Omit<RunOptions, 'env'> {
  /** Variables added to (or replacing) the user's clean environment. */
  env?: Record<string, string>;
}

export interface RootlessUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** /run/user/UID, 0700 and the user's: its XDG_RUNTIME_DIR. */
  runtimeDir: string;
  subuid: IdRange;
  subgid: IdRange;
  /** The environment every command of the user starts with (nothing of the test process's). */
  env: Record<string, string>;
  /** Runs argv (no shell) as the user, in its home unless `cwd` is given: code, stdout, stderr as cli.ts's run(). */
  as(argv: string[], opts?: AsOptions): Promise<RunResult>;
  /** Like as(), failing with the command's output when it exits non-zero. */
  ok(argv: string[], opts?: AsOptions): Promise<RunResult>;
  /** Starts argv as the user the way as() runs it, without waiting (stdio ignored): a server, or a command to kill midway. Its PID is the command's own. */
  start(argv: string[], opts?: AsOptions): ChildProcess;
  /** Kills every process of the user, removes it, its home, ranges and runtime directory, closes the devices; throws if anything is left. */
  cleanup(): void;
}

export interface RootlessUserOptions {
  /** The process the user belongs to (default this one): once it is gone, the next sweep removes the user. */
  ownerPid?: number;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
}

function sh(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: SYNC_TIMEOUT_MS, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error?.message || '') };
}

function must(cmd: string, args: string[]): void {
  const r = sh(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
}

function passwd(): PasswdEntry[] {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), comment: f[4]!, home: f[5]! }));
}

/** The lines of /etc/subuid or /etc/subgid as owner (name or uid) and range. */
export function subordinateRanges(file: '/etc/subuid' | '/etc/subgid'): { owner: string; range: IdRange }[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: { owner: string; range: IdRange }[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner && start && count) out.push({ owner, range: { start: Number(start), count: Number(count) } });
  }
  return out;
}

function overlaps(a: IdRange, b: IdRange): boolean {
  return a.start < b.start + b.count && b.start < a.start + a.count;
}

/** A range of RANGE_SIZE that no line of /etc/subuid or /etc/subgid touches. Under the state lock, so two test files cannot pick the same. */
function freeRange(): IdRange {
  const taken = [...subordinateRanges('/etc/subuid'), ...subordinateRanges('/etc/subgid')].map((l) => l.range);
  for (let tries = 0; tries < 1000; tries++) {
    const range = { start: RANGE_BASE + randomInt(RANGE_SLOTS) * RANGE_SIZE, count: RANGE_SIZE };
    if (!taken.some((t) => overlaps(t, range))) return range;
  }
  throw new Error('no free subordinate id range found');
}

const rangeArg = (r: IdRange) => `${r.start}-${r.start + r.count - 1}`;

/** The owner stamp an account's comment carries (`berth-rl owner=PID.START`), if any. */
function ownerOf(entry: PasswdEntry): string | undefined {
  return /owner=(\d+\.\d+)/.exec(entry.comment)?.[1];
}

/** PIDs of the live processes running as `uid` or as any id of `ranges` (a container's processes run as mapped ids). */
export function processesOf(uid: number, ranges: IdRange[] = []): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${name}/status`, 'utf8');
    } catch {
      continue; // gone
    }
    if (/^State:\s+Z/m.test(status)) continue; // a zombie is dead, its parent has yet to reap it
    const ids = (/^Uid:\s+(.*)$/m.exec(status)?.[1] ?? '').split(/\s+/).map(Number);
    if (ids.some((id) => id === uid || ranges.some((r) => id >= r.start && id < r.start + r.count))) pids.push(Number(name));
  }
  return pids;
}

/** SIGKILL to every process of the user (pause processes, conmon, containers) until none is left or KILL_WAIT_MS passed. */
function killAll(uid: number, ranges: IdRange[]): number[] {
  const deadline = Date.now() + KILL_WAIT_MS;
  for (;;) {
    const pids = processesOf(uid, ranges);
    if (pids.length === 0 || Date.now() > deadline) return pids;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

/** Top-level entries of the shared temp directories owned by `uid` (podman's /tmp/podman-run-UID, berth's /tmp/berth-UID, ...). */
function tempEntriesOf(uid: number): string[] {
  const out: string[] = [];
  for (const dir of ['/tmp', '/var/tmp', '/dev/shm']) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      try {
        if (lstatSync(join(dir, n)).uid === uid) out.push(join(dir, n));
      } catch {
        // gone
      }
    }
  }
  return out;
}

/**
 * Removes a user and everything of it: processes first (no new file can appear after), then, while
 * the uid is still its own (a uid freed here may be given to the next user at once), its files in
 * the temp directories; then its ranges, the account, home and runtime directory. Returns what is
 * left (empty when all went).
 */
function removeUser(entry: PasswdEntry): string[] {
  const mine = (l: { owner: string }) => l.owner === entry.name || l.owner === String(entry.uid);
  const subuids = subordinateRanges('/etc/subuid').filter(mine);
  const subgids = subordinateRanges('/etc/subgid').filter(mine);
  const runtimeDir = `/run/user/${entry.uid}`;
  const left: string[] = [];
  // Once the account is gone (a sweep removed it), its uid may be another user's: nothing is done by uid.
  if (passwd().some((p) => p.name === entry.name && p.uid === entry.uid)) {
    const survivors = killAll(
      entry.uid,
      subuids.map((l) => l.range),
    );
    if (survivors.length > 0) left.push(`processes ${survivors.join(' ')} of ${entry.name} survived SIGKILL`);
    unmountUnder(entry.home);
    unmountUnder(runtimeDir);
    for (const p of tempEntriesOf(entry.uid)) rmSync(p, { recursive: true, force: true });
    rmSync(runtimeDir, { recursive: true, force: true });
  }
  const del: string[] = [];
  for (const l of subuids) del.push('--del-subuids', rangeArg(l.range));
  for (const l of subgids) del.push('--del-subgids', rangeArg(l.range));
  if (del.length > 0) sh('usermod', [...del, entry.name]);
  // -f: removes the account even if a process survived (it is reported below).
  const r = sh('userdel', ['-r', '-f', entry.name]);
  if (r.status !== 0 && r.status !== 6) left.push(`userdel ${entry.name} exited ${r.status}: ${r.stderr.trim()}`);
  if (entry.home.startsWith('/home/')) rmSync(entry.home, { recursive: true, force: true });
  if (passwd().some((p) => p.name === entry.name)) left.push(`${entry.name} is still in /etc/passwd`);
  for (const file of ['/etc/subuid', '/etc/subgid'] as const) {
    if (subordinateRanges(file).some(mine)) left.push(`${file} still has a line of ${entry.name}`);
  }
  if (existsSync(entry.home)) left.push(`${entry.home} is still there`);
  return left;
}

/**
 * Removes the users a killed test or benchmark left: each berth-rl- user whose owner process is gone
 * (or, without an owner in its comment, that has no process left), then restores the device modes
 * if no live holder keeps them open. Best effort: a user that cannot be removed now is left to the next sweep.
 */
export function sweepRootlessLeftovers(): void {
  withStateLock(() => {
    for (const entry of passwd()) {
      if (!entry.name.startsWith(USER_PREFIX)) continue;
      const owner = ownerOf(entry);
      if (owner ? stampAlive(owner) : processesOf(entry.uid).length > 0) continue;
      removeUser(entry);
    }
  });
  restoreDevicesIfUnheld();
}

/** Makes a directory the user owns, with the given mode. */
function userDir(path: string, uid: number, gid: number, mode: number): void {
  mkdirSync(path, { recursive: true });
  chownSync(path, uid, gid);
  chmodSync(path, mode);
}

/** Looks up the user a previous rootlessUser() made (the benchmark's CLI removes it in another process). */
export function existingRootlessUser(name: string): RootlessUser {
  if (!name.startsWith(USER_PREFIX)) throw new Error(`${name} is not a user this harness made (no ${USER_PREFIX} prefix)`);
  const entry = passwd().find((p) => p.name === name);
  if (!entry) throw new Error(`no user ${name}`);
  const sub = (file: '/etc/subuid' | '/etc/subgid') => subordinateRanges(file).find((l) => l.owner === name)?.range ?? { start: 0, count: 0 };
  return handle(entry, sub('/etc/subuid'), sub('/etc/subgid'));
}

function handle(entry: PasswdEntry, subuid: IdRange, subgid: IdRange): RootlessUser {
  const runtimeDir = `/run/user/${entry.uid}`;
  const env: Record<string, string> = { HOME: entry.home, USER: entry.name, LOGNAME: entry.name, PATH: USER_PATH, XDG_RUNTIME_DIR: runtimeDir };
  // scripts/test.mjs kills what carries its mark when a file overruns: the user's processes too.
  if (process.env['BERTH_TEST_RUN']) env['BERTH_TEST_RUN'] = process.env['BERTH_TEST_RUN'];
  const argv = (cmd: string[], opts: AsOptions) => [
    '-i',
    ...Object.entries({ ...env, ...opts.env }).map(([k, v]) => `${k}=${v}`),
    '/usr/bin/setpriv',
    `--reuid=${entry.uid}`,
    `--regid=${entry.gid}`,
    '--init-groups',
    '--',
    ...cmd,
  ];
  const runOpts = (opts: AsOptions): RunOptions => {
    const { env: _env, ...rest } = opts;
    return { ...rest, cwd: opts.cwd ?? entry.home };
  };
  let removed = false;
  return {
    name: entry.name,
    uid: entry.uid,
    gid: entry.gid,
    home: entry.home,
    runtimeDir,
    subuid,
    subgid,
    env,
    as: (cmd, opts = {}) => run('/usr/bin/env', argv(cmd, opts), runOpts(opts)),
    ok: (cmd, opts = {}) => runOk('/usr/bin/env', argv(cmd, opts), runOpts(opts)),
    start: (cmd, opts = {}) => spawn('/usr/bin/env', argv(cmd, opts), { stdio: 'ignore', cwd: opts.cwd ?? entry.home }),
    cleanup: () => {
      if (removed) return;
      removed = true;
      const left = withStateLock(() => removeUser(entry));
      releaseDevices(entry.name);
      if (left.length > 0) throw new Error(`rootless user cleanup left: ${left.join('; ')}`);
    },
  };
}

/**
 * Makes a user for a rootless test (sweeping what killed runs left first). Call cleanup() when done
 * (in an after() hook: it also works when the test failed halfway).
 */
export function rootlessUser(opts: RootlessUserOptions = {}): RootlessUser {
  sweepRootlessLeftovers();
  const owner = processStamp(opts.ownerPid ?? process.pid);
  const name = USER_PREFIX + randomBytes(4).toString('hex');
  // -K ...=0: no range of useradd's choosing; the one given below is the user's only one, so the
  // mapping is exactly two lines (the user, then the range).
  must('useradd', ['-m', '-U', '-s', '/usr/sbin/nologin', '-c', `berth-rl owner=${owner}`, '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name]);
  const entry = passwd().find((p) => p.name === name);
  if (!entry) throw new Error(`useradd made no ${name}`);
  const user = handle(entry, { start: 0, count: 0 }, { start: 0, count: 0 });
  try {
    const range = withStateLock(() => {
      const r = freeRange();
      must('usermod', ['--add-subuids', rangeArg(r), '--add-subgids', rangeArg(r), name]);
      return r;
    });
    user.subuid = range;
    user.subgid = { ...range };
    // The uid is new to this user, so whatever it owns already was left by an earlier account with
    // the same uid (a podman pause.pid, a /tmp/berth-UID run root) and would mislead the tools.
    rmSync(user.runtimeDir, { recursive: true, force: true });
    for (const p of tempEntriesOf(entry.uid)) rmSync(p, { recursive: true, force: true });
    userDir(user.runtimeDir, entry.uid, entry.gid, 0o700);
    openDevices(name, owner);
    return user;
  } catch (e) {
    try {
      user.cleanup();
    } catch {
      // the first error says more; the next sweep takes what is left
    }
    throw e;
  }
}
