import { spawn } from 'node:child_process';
import { BerthError, errnoCode } from '../util/errors.js';

/** How much of a child's stderr is kept for the error message. */
const STDERR_LIMIT = 8192;

/** The last non-empty line of a process's stderr. */
export function lastLine(stderr: string): string {
  return stderr.trim().split('\n').filter(Boolean).at(-1) ?? '';
}

export interface RunResult {
  code: number;
  stderr: string;
}

/**
 * Runs a command to its end, feeding it `input` on stdin; stdout is discarded. Resolves with the
 * exit status and stderr (a signal counts as status 128+n); rejects only when it cannot start.
 */
export function run(command: string, args: string[], opts: { cwd?: string; input?: string | Buffer } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += s;
    });
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      const message = errnoCode(e) === 'ENOENT' ? `${command} is not installed` : e.message;
      reject(new BerthError('IO', `cannot run ${command}: ${message}`, { cause: e }));
    });
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + signalNumber(signal), stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1;
}
