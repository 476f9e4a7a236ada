import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The host state rootless tests share across test files (each its own node process, several at
 * once): one lock, the original modes of the devices they open, and who holds them open. Under
 * /run, so that a reboot forgets it along with the modes the kernel's devices get back.
 */
export const STATE_DIR = '/run/berth-rl';
const LOCK = join(STATE_DIR, 'lock');
const MODES = join(STATE_DIR, 'device-modes');
const HOLDERS = join(STATE_DIR, 'holders');

/**
 * Devices a rootless engine opens as the user: slirp4netns and pasta /dev/net/tun, fuse-overlayfs
 * /dev/fuse. This machine kind has them 0600 root (stock Debian 0666), so the tests open them up.
 */
export const ROOTLESS_DEVICES = ['/dev/net/tun', '/dev/fuse'];
const OPEN_MODE = 0o666;

/** Ends a wait for the lock that another live process holds: no test holds it this long. */
const LOCK_TIMEOUT_MS = 60_000;
/** A lock directory without an owner file this old was left by a process killed between mkdir and write. */
const LOCK_ORPHAN_MS = 10_000;

/** `PID.STARTTIME` of a live process (start time in clock ticks since boot, /proc/PID/stat field 22): a PID reused later has another. */
export function processStamp(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return `${pid}.${fields[19]}`;
}

/** Whether the process a stamp names still runs (the same process: same PID and start time, not a zombie). */
export function stampAlive(stamp: string): boolean {
  const pid = Number(stamp.split('.')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    return processStamp(pid) === stamp;
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `fn` holding the state lock: a directory (mkdir is atomic) with the holder's stamp in it. A
 * lock whose holder died (a test file killed) is broken, so a crash never blocks the next run.
 */
export function withStateLock<T>(fn: () => T): T {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const me = processStamp(process.pid);
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'owner'), me);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: string | undefined;
    try {
      owner = readFileSync(join(LOCK, 'owner'), 'utf8');
    } catch {
      owner = undefined;
    }
    const stale = owner !== undefined ? !stampAlive(owner) : lockAgeMs() > LOCK_ORPHAN_MS;
    if (stale) {
      rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${LOCK} is held by ${owner ?? 'an unknown process'} for over ${LOCK_TIMEOUT_MS / 1000} s`);
    sleepSync(25);
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function lockAgeMs(): number {
  try {
    return Date.now() - statSync(LOCK).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY; // gone: the next mkdir will tell
  }
}

/** Each existing device's permission bits now. */
export function deviceModes(): Map<string, number> {
  const modes = new Map<string, number>();
  for (const d of ROOTLESS_DEVICES) if (existsSync(d)) modes.set(d, statSync(d).mode & 0o7777);
  return modes;
}

/** The original modes recorded by the first holder, or undefined when none is recorded (no holder since they were restored). */
export function recordedModes(): Map<string, number> | undefined {
  let text: string;
  try {
    text = readFileSync(MODES, 'utf8');
  } catch {
    return undefined;
  }
  const modes = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [path, mode] = line.split(' ');
    if (path && mode) modes.set(path, Number.parseInt(mode, 8));
  }
  return modes;
}

/** Holder files whose owner is alive, after removing those of owners that died. */
function liveHolders(): string[] {
  mkdirSync(HOLDERS, { recursive: true });
  const live: string[] = [];
  for (const name of readdirSync(HOLDERS)) {
    let owner = '';
    try {
      owner = readFileSync(join(HOLDERS, name), 'utf8');
    } catch {
      continue;
    }
    if (stampAlive(owner)) live.push(name);
    else rmSync(join(HOLDERS, name), { force: true });
  }
  return live;
}

/** Puts back the recorded modes and forgets them. Under the lock, with no live holder. */
function restore(): void {
  const modes = recordedModes();
  if (!modes) return;
  for (const [path, mode] of modes) if (existsSync(path)) chmodSync(path, mode);
  rmSync(MODES, { force: true });
}

/**
 * Opens the devices (0666) for a holder (a name unique on the host, e.g. the user's) owned by the
 * process `ownerStamp` names. The first holder records the original modes; a record already there
 * (its holders all died) is kept, as it holds the real originals, not the 0666 they left.
 */
export function openDevices(holder: string, ownerStamp: string): void {
  withStateLock(() => {
    if (liveHolders().length === 0 && !recordedModes()) {
      const lines = [...deviceModes()].map(([path, mode]) => `${path} ${mode.toString(8)}\n`).join('');
      writeFileSync(`${MODES}.tmp`, lines);
      renameSync(`${MODES}.tmp`, MODES);
    }
    writeFileSync(join(HOLDERS, holder), ownerStamp);
    for (const path of deviceModes().keys()) chmodSync(path, OPEN_MODE);
  });
}

/** Drops a holder; the last live one out puts the original modes back. Nothing when the holder is gone already. */
export function releaseDevices(holder: string): void {
  withStateLock(() => {
    mkdirSync(HOLDERS, { recursive: true });
    rmSync(join(HOLDERS, holder), { force: true });
    if (liveHolders().length === 0) restore();
  });
}

/** Restores the modes when every holder has died (what a killed test file left open). */
export function restoreDevicesIfUnheld(): void {
  withStateLock(() => {
    if (liveHolders().length === 0) restore();
  });
}

/** Names of the live holders (for tests). */
export function deviceHolders(): string[] {
  return withStateLock(() => liveHolders());
}
