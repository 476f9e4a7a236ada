import { execFile, type ExecFileOptions } from 'node:child_process';
import { promisify } from 'node:util';
import { constants } from 'node:os';
import { envList, nativeCalls } from './native.js';

const promised = () => promisify(execFile);
let loaded: ReturnType<typeof promised> | undefined;

/** What a program printed, as `promisify(execFile)` gives it with its default utf8 encoding. */
export interface ProgramOutput {
  stdout: string;
  stderr: string;
}

/** The options the native way takes; any other sends the call to Node's execFile. */
type NativeOptions = Pick<ExecFileOptions, 'maxBuffer' | 'env'> & { encoding?: 'utf8' };

const NATIVE_OPTIONS = new Set(['maxBuffer', 'env', 'encoding']);

/** execFile's default maxBuffer. */
const MAX_BUFFER = 1024 * 1024;

/**
 * Runs a program and gives what it printed, as `promisify(execFile)` does: the same result, and
 * on failure the same error (`code` the exit status or the errno's name, `signal`, `stdout`,
 * `stderr`, `cmd`). With berth's native addon the child is made with posix_spawn, and waited
 * for, on a thread of its own: Node's own spawn forks the whole process, 2-4 ms
 * of its main thread a child, and a container's start or removal runs several (the runtime's
 * `start`, `kill`, `delete`). Node's execFile does it where the addon is missing or the options
 * ask for more (a timeout, a cwd, buffers).
 *
 * node:child_process is loaded only by that fallback: loaded at a module's top level, it cost
 * every command that imports one of these callers ~5 ms (with node:net and node:dgram), though
 * `version`, `rm` and `create` start no child at all.
 */
export function execFileAsync(file: string, args: readonly string[] = [], opts: ExecFileOptions & { encoding?: BufferEncoding } = {}): Promise<ProgramOutput> {
  const native = nativeCalls();
  if (native && Object.keys(opts).every((k) => NATIVE_OPTIONS.has(k)) && (opts.encoding ?? 'utf8') === 'utf8')
    return runNative(native.run, file, args, opts as NativeOptions);
  return (loaded ??= promised())(file, args, { ...opts, encoding: opts.encoding ?? 'utf8' }) as Promise<ProgramOutput>;
}

type NativeRun = NonNullable<ReturnType<typeof nativeCalls>>['run'];

async function runNative(run: NativeRun, file: string, args: readonly string[], opts: NativeOptions): Promise<ProgramOutput> {
  const maxBuffer = opts.maxBuffer ?? MAX_BUFFER;
  const env = opts.env ? envList(opts.env) : null;
  const cmd = [file, ...args].join(' ');
  let result: [number, number, Buffer, Buffer];
  try {
    // One byte more than allowed is kept, to tell a full buffer from an overflowing one.
    result = await run(file, [file, ...args], env, maxBuffer + 1);
  } catch (e) {
    // Node's words for a program that cannot be run: `spawn FILE ENOENT`.
    const err = e as NodeJS.ErrnoException;
    throw Object.assign(new Error(`spawn ${file} ${err.code}`), {
      errno: -(err.errno ?? 0),
      code: err.code,
      syscall: `spawn ${file}`,
      path: file,
      spawnargs: [...args],
      cmd,
      stdout: '',
      stderr: '',
    });
  }
  const [status, signo, out, err] = result;
  const stdout = out.subarray(0, maxBuffer).toString('utf8');
  const stderr = err.subarray(0, maxBuffer).toString('utf8');
  if (out.length > maxBuffer || err.length > maxBuffer) {
    const which = out.length > maxBuffer ? 'stdout' : 'stderr';
    throw Object.assign(new RangeError(`${which} maxBuffer length exceeded`), { code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', cmd, stdout, stderr });
  }
  if (status === 0) return { stdout, stderr };
  const signal = signo ? (Object.entries(constants.signals).find(([, n]) => n === signo)?.[0] ?? null) : null;
  throw Object.assign(new Error(`Command failed: ${cmd}\n${stderr}`), { code: signal ? null : status, killed: false, signal, cmd, stdout, stderr });
}
