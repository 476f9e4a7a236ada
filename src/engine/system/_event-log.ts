import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DirLock } from '../../util/lock.js';

/**
 * The event log on disk: JSON lines in `events.log`, and the lines before them in `events.log.1`.
 *
 * Appenders take no lock: each line goes out in one write(2) on an O_APPEND descriptor, which the
 * kernel places whole at the end of the file, so lines of concurrent processes never interleave.
 * The log is bounded by rotation: once `events.log` passes `rotateAt` it is renamed over
 * `events.log.1` (the older half is dropped). A rename, unlike rewriting the newer half into a new
 * file, loses no line: an appender that opened the file just before the rename writes into what is
 * now `events.log.1`, which readers still read. Rotators serialise on a lock and re-check the size
 * under it, so two of them never rotate twice in a row (which would drop the newer half).
 */

/** Rotate past half a MiB: the two files hold at most about 1 MiB (podman's events_logfile_max_size). */
export const DEFAULT_ROTATE_AT = 512 * 1024;

export const previousLog = (path: string) => `${path}.1`;

/**
 * Appends one line (a trailing newline is added) and rotates the log when it has grown past
 * `rotateAt`. The append is synchronous calls (open, one write(2), fstat, close: microseconds on
 * a local file), where each through the thread pool was a round trip, for every event of a command.
 */
export async function appendLine(path: string, line: string, rotateAt = DEFAULT_ROTATE_AT): Promise<void> {
  const data = Buffer.from(`${line}\n`);
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    fd = openSync(path, 'a', 0o600);
  }
  let size: number;
  try {
    // One write(2); a short write of a few hundred bytes to a regular file does not happen short of a full disk.
    const written = writeSync(fd, data, 0, data.length);
    if (written !== data.length) throw new Error(`short write to ${path}`);
    size = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  if (size > rotateAt) await rotate(path, rotateAt);
}

async function rotate(path: string, rotateAt: number): Promise<void> {
  const lock = new DirLock(`${path}.lock`);
  // What a rotator killed mid-take left beside the lock (rare, and only looked for here).
  await lock.sweepLeftovers();
  await lock.with(async () => {
    const st = await stat(path).catch(() => undefined);
    if (!st || st.size <= rotateAt) return; // rotated by another process meanwhile
    await rename(path, previousLog(path));
  }, 10_000);
}

/** Splits text into whole lines, keeping a trailing partial line for the next chunk. */
class LineSplitter {
  private rest = '';
  push(chunk: string): string[] {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop()!;
    return lines.filter((l) => l !== '');
  }
}

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  return open(path, 'r').catch(() => undefined);
}

/** Reads from `fh` at `pos` to its current end. */
async function readFrom(fh: FileHandle, pos: number): Promise<{ text: string; pos: number }> {
  const { size } = await fh.stat();
  if (size <= pos) return { text: '', pos };
  const buf = Buffer.alloc(size - pos);
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, pos + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return { text: buf.subarray(0, off).toString('utf8'), pos: pos + off };
}

export interface TailOptions {
  /** Start with the lines already in the log (both files); otherwise only new lines. */
  fromStart: boolean;
  /** Keep waiting for new lines until the signal aborts or `stopWhen` says so. */
  follow: boolean;
  signal?: AbortSignal;
  /** Checked at each poll while following: true ends the read. */
  stopWhen?: () => boolean;
  pollMs?: number;
}

/**
 * The log's lines, oldest first. Following, it polls the current file and, when it was rotated
 * away, reads the old file to its end before moving to the new one.
 */
export async function* tailLines(path: string, opts: TailOptions): AsyncGenerator<string> {
  // The current file first: if it is rotated between the two opens, the "previous" one is the
  // same file and is read once.
  let current = await openIfExists(path);
  try {
    let pos = 0;
    if (opts.fromStart) {
      const previous = await openIfExists(previousLog(path));
      if (previous) {
        try {
          const same = current && (await previous.stat()).ino === (await current.stat()).ino;
          if (!same) yield* new LineSplitter().push(`${(await readFrom(previous, 0)).text}\n`);
        } finally {
          await previous.close();
        }
      }
    } else if (current) {
      pos = (await current.stat()).size;
    }
    let lines = new LineSplitter();
    for (;;) {
      if (current) {
        const read = await readFrom(current, pos);
        pos = read.pos;
        yield* lines.push(read.text);
      }
      if (!opts.follow || opts.signal?.aborted || opts.stopWhen?.()) return;
      await sleep(opts.pollMs ?? 200, undefined, opts.signal ? { signal: opts.signal } : {}).catch(() => undefined);
      const st = await stat(path).catch(() => undefined);
      if (st && (!current || st.ino !== (await current.stat()).ino)) {
        // Rotated (or made): finish the old file, then start the new one from its beginning.
        if (current) {
          yield* lines.push(`${(await readFrom(current, pos)).text}\n`);
          await current.close();
        }
        current = await openIfExists(path);
        pos = 0;
        lines = new LineSplitter();
      }
    }
  } finally {
    await current?.close();
  }
}
