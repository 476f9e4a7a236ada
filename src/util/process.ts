import { readFileSync } from 'node:fs';

/**
 * The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or undefined
 * when it does not exist. Together with the PID it names a process uniquely, so that a lock or a
 * temp directory left by a dead process is not mistaken for one of a new process with a reused PID.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

let selfToken: string | undefined;

/** `PID-STARTTIME` of this process. */
export function processToken(): string {
  selfToken ??= `${process.pid}-${processStartTime(process.pid) ?? '0'}`;
  return selfToken;
}

/** Whether the process named by a token from processToken() is still running. */
export function isTokenAlive(token: string): boolean {
  const [pid, start] = token.split('-');
  if (!pid || !start) return false;
  return processStartTime(Number(pid)) === start;
}

/**
 * Whether the process runs: it exists and has not ended. An ended process stays a zombie until its
 * parent reaps it; one whose parent (conmon) was killed waits for init, which may take a while.
 */
export function isPidRunning(pid: number): boolean {
  if (!isPidAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, the state, follows the command name's closing parenthesis.
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Whether a process with this PID exists (EPERM: it does, owned by another user). */
export function isPidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
