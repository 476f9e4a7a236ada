import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import { BerthError, errnoCode } from '../util/errors.js';

/** How much of a child's stderr is kept for the error message. */
const STDERR_LIMIT = 8192;

/** The last non-empty line of a process's stderr, with its "zstd: " style prefix left as it is. */
export function lastLine(stderr: string): string {
  return stderr.trim().split('\n').filter(Boolean).at(-1) ?? '';
}

/**
 * A filter process as a Duplex: what is written goes to its stdin, its stdout is what is read.
 * Backpressure holds in both directions. The readable side ends only when the process exits with
 * status 0; otherwise the stream is destroyed with an ARCHIVE_INVALID error naming `what` and
 * quoting the process's stderr. Destroying the stream kills the process.
 */
export class ProcessDuplex extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private exited = false;

  constructor(command: string, args: string[], what: string) {
    super();
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const child = this.child;
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (this.stderr.length < STDERR_LIMIT) this.stderr += s;
    });
    // EPIPE when the process stopped reading: its exit status and stderr tell the real story.
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      this.exited = true;
      const message = errnoCode(e) === 'ENOENT' ? `${command} is not installed` : e.message;
      this.destroy(new BerthError('IO', `${what}: cannot run ${command}: ${message}`, { cause: e }));
    });
    // 'close' comes after stdout has ended, so everything it wrote has been pushed.
    child.on('close', (code, signal) => {
      this.exited = true;
      if (this.destroyed) return;
      if (code === 0) {
        this.push(null);
        return;
      }
      // zstd prefixes its messages with the input's name, "/*stdin*\\ :", which says nothing here.
      const detail = lastLine(this.stderr).replace(/^\/\*stdin\*\\ ?: ?/, '') || (signal ? `killed by ${signal}` : `exit status ${code}`);
      this.destroy(new BerthError('ARCHIVE_INVALID', `${what} failed: ${detail}`));
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // The callback runs once the chunk is handed to the pipe; an EPIPE is left to 'close' to report.
    this.child.stdin.write(chunk, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin.end();
    cb();
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.exited) this.child.kill('SIGKILL');
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    cb(err);
  }
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
