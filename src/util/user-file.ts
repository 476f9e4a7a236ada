import { createWriteStream } from 'node:fs';
import { chmod, lstat, open, readlink, realpath, rename, rm } from 'node:fs/promises';
import { randomBytes } from './crypto.js';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fsyncDir } from './atomic.js';
import { errnoCode } from './errors.js';

/**
 * Where a write to a path the user named (`-o`, `--iidfile`, `--digestfile`, `--authfile`…) goes.
 * A regular file, or a name not there yet, is replaced whole: a temp file beside it renamed over
 * it, so a failed write leaves the old file. Anything else (a device such as /dev/null, a FIFO,
 * /dev/stdout) is written in place: renaming over it would replace the device itself with a file.
 * A symlink is followed, so the link stays and its target is written.
 */
type Target = { how: 'replace'; path: string; mode?: number } | { how: 'in-place'; path: string };

async function targetOf(path: string): Promise<Target> {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    // /proc and /sys are no place for a temp file and a rename: their files are kernel objects,
    // and /proc's fd links (/dev/stdout is /proc/self/fd/1) name an open file, not a path.
    if (/^\/(proc|sys)\//.test(current)) return { how: 'in-place', path };
    let st;
    try {
      st = await lstat(current);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { how: 'replace', path: current };
      throw e;
    }
    if (st.isFile()) return { how: 'replace', path: current, mode: st.mode & 0o7777 };
    if (!st.isSymbolicLink()) return { how: 'in-place', path };
    // A link's `..` is taken from where its directory really is, as the kernel does.
    const dir = await realpath(dirname(current)).catch(() => dirname(current));
    current = resolve(dir, await readlink(current));
  }
  return { how: 'in-place', path }; // a loop of links: let open() report ELOOP
}

function tempBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes `data` to a path the user named (see Target): a regular file is replaced atomically and
 * fsynced, anything else written in place. `mode` is the file's mode whatever was there (an auth
 * file is 0600); without it a replaced file keeps its mode and a new one gets 0644 less the umask.
 */
export async function writeUserFile(path: string, data: string | Uint8Array, opts: { mode?: number } = {}): Promise<void> {
  const target = await targetOf(path);
  if (target.how === 'in-place') {
    const fh = await open(path, 'w');
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    return;
  }
  const exact = opts.mode ?? target.mode;
  const tmp = tempBeside(target.path);
  try {
    const fh = await open(tmp, 'wx', exact ?? 0o644);
    try {
      // open()'s mode passes through the umask; a kept or asked-for mode is meant exactly.
      if (exact !== undefined) await fh.chmod(exact);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target.path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dirname(target.path));
}

/**
 * Streams into a path the user named (see Target): `write` gets the stream and resolves once it
 * has written everything and ended it. A regular file is written beside and renamed over when
 * whole, so a failed write leaves no half file; a device or FIFO is written in place.
 */
export async function writeUserFileStream(path: string, write: (out: Writable) => Promise<void>): Promise<void> {
  const target = await targetOf(path);
  if (target.how === 'in-place') {
    // Opened before any work: a FIFO's open waits for its reader, and a write that fails early
    // must not leave an open pending in the background that keeps the process alive.
    const out = (await open(path, 'w')).createWriteStream();
    try {
      await write(out);
      await finished(out);
    } catch (e) {
      out.destroy();
      throw e;
    }
    return;
  }
  const tmp = tempBeside(target.path);
  const out = createWriteStream(tmp, { flags: 'wx' });
  try {
    await write(out);
    await finished(out);
    if (target.mode !== undefined) await chmod(tmp, target.mode);
    await rename(tmp, target.path);
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}
