import { statSync } from 'node:fs';
import { BerthError, ExitCode } from '../util/errors.js';

/** The global options as commander hands them over (see global-options.ts for their meaning). */
export interface GlobalOptions {
  root?: string;
  runroot?: string;
  logLevel: string;
  /** `-D`: --log-level=debug. */
  debug?: boolean;
  storageDriver?: string;
  storageOpt: string[];
  /** The runtime new containers get unless `run`/`create` name one. */
  runtime?: string;
  runtimeFlag: string[];
  tmpdir?: string;
  cgroupManager?: string;
  eventsBackend?: string;
  noout?: boolean;
  out?: string;
  defaultMountsFile?: string;
  url?: string;
  connection?: string;
  remote?: boolean;
}

export function engineOptions(g: GlobalOptions): { root?: string; runRoot?: string } {
  return { ...(g.root ? { root: g.root } : {}), ...(g.runroot ? { runRoot: g.runroot } : {}) };
}

/**
 * podman's removal commands (rm, volume rm, network rm) exit 1 when a target was not found and 2 when one is
 * running or in use (not found wins); other failures keep their own code. Returns the error to throw.
 */
export function removalError(errors: readonly unknown[]): unknown {
  const last = errors.at(-1);
  if (!(last instanceof BerthError)) return last;
  const is = (codes: string[]) => errors.some((e) => e instanceof BerthError && codes.includes(e.code));
  const exitCode = is(['CONTAINER_UNKNOWN', 'VOLUME_UNKNOWN', 'IMAGE_UNKNOWN', 'NETWORK_UNKNOWN'])
    ? 1
    : is(['CONTAINER_STATE', 'VOLUME_IN_USE', 'IMAGE_IN_USE', 'NETWORK_IN_USE'])
      ? 2
      : last.exitCode;
  return new BerthError(last.code, last.message, { cause: last.cause, temporary: last.temporary, exitCode });
}

/** One line on stderr, as podman prints it, and the exit code to leave with. */
export function reportError(e: unknown): number {
  if (e instanceof BerthError) {
    process.stderr.write(`Error: ${e.message}\n`);
    if (process.env.BERTH_DEBUG && e.cause) process.stderr.write(`${String((e.cause as Error).stack ?? e.cause)}\n`);
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && err.syscall) {
    process.stderr.write(`Error: ${systemErrorText(err)}\n`);
  } else {
    process.stderr.write(`Error: internal error: ${err?.stack ?? String(e)}\n`);
  }
  return ExitCode.engine;
}

/** Where libuv's words differ from the C library's, which podman (Go) prints. */
const GO_ERRNO_TEXT: Record<string, string> = {
  EEXIST: 'file exists',
  EISDIR: 'is a directory',
  EBUSY: 'device or resource busy',
  EXDEV: 'invalid cross-device link',
  EAGAIN: 'resource temporarily unavailable',
};

/**
 * A system call's failure as podman words it, `mkdir /run/x: not a directory`, rather than
 * node's `ENOTDIR: not a directory, mkdir '/run/x'`.
 */
export function systemErrorText(err: NodeJS.ErrnoException & { dest?: string }): string {
  const libuv = /^[A-Z0-9]+: (.*?), /.exec(err.message)?.[1] ?? err.message;
  let text = GO_ERRNO_TEXT[err.code!] ?? libuv;
  // A recursive mkdir meets a file where a directory should be: Go's MkdirAll says ENOTDIR.
  if (err.syscall === 'mkdir' && err.code === 'EEXIST' && err.path && !isDirectory(err.path)) text = 'not a directory';
  const paths = [err.path, err.dest].filter((p): p is string => typeof p === 'string');
  return `${[err.syscall, ...paths].join(' ')}: ${text}`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
