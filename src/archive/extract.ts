import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  chmodSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError } from '../util/errors.js';
import { autoDecompress } from './compression.js';
import { baseOf, entryPath, parentOf, printable } from './_paths.js';
import { TarReader, type TarHeader } from './_tar-reader.js';

export interface ExtractOptions {
  /**
   * Where an entry goes, as a path relative to the destination (`''` is the destination itself,
   * whose metadata is left alone), or undefined to skip it. Given the entry's cleaned name.
   */
  rename?: (rel: string) => string | undefined;
  /**
   * A host path of the destination's directory `rel`, or undefined when it does not exist: the
   * caller resolves symlinks on the way by its own rules (inside a container's root) and returns a
   * path that cannot be redirected (an open descriptor's), so nothing is ever written through a
   * link to somewhere else. Entries are made directly in it, with no-follow calls.
   */
  resolveDir: (rel: string) => Promise<string | undefined>;
  /** Owner for everything made; undefined keeps the tar's uid/gid. */
  owner?: { uid: number; gid: number } | undefined;
  /** Replace a directory by a non-directory and the reverse (else "file exists"). */
  overwrite: boolean;
  /** The path to name in messages for a destination-relative path. */
  display: (rel: string) => string;
}

const O_CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Unpacks a (plain) tar into a destination that may already hold files, as `cp` does: directories
 * merge, other entries replace what is there (a directory replaced by a file, or the reverse, only
 * with `overwrite`). Every entry's parent is resolved through `resolveDir`, and the entry itself is
 * made with no-follow calls, so a symlink already in the destination is replaced, never written
 * through. Device nodes are skipped (as podman's cp does); xattrs are not copied.
 */
export async function extractTar(tar: Readable, opts: ExtractOptions): Promise<void> {
  const reader = new TarReader(tar, { hash: false });
  const dirs = new Map<string, string>();
  const dirMeta: { rel: string; mode: number; mtime: number }[] = [];
  const owner = (h: Pick<TarHeader, 'uid' | 'gid'>) => opts.owner ?? { uid: h.uid, gid: h.gid };
  // A directory the archive does not list (`tar -cf - a/b` has no `a/`) is made, as tar does.
  const resolveDir = async (rel: string): Promise<string> => {
    let host = dirs.get(rel);
    if (host !== undefined) return host;
    host = await opts.resolveDir(rel);
    if (host === undefined && rel !== '') {
      const path = join(await resolveDir(parentOf(rel)), baseOf(rel));
      mkdirSync(path, 0o755);
      const o = owner({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
      lchownSync(path, o.uid, o.gid);
      host = await opts.resolveDir(rel);
    }
    if (host === undefined) throw new BerthError('USAGE', `error creating "${opts.display(rel)}": no such file or directory`);
    dirs.set(rel, host);
    return host;
  };
  try {
    for await (const { header: h, body } of reader.entries()) {
      const clean = entryPath(h.name);
      const rel = opts.rename ? opts.rename(clean) : clean;
      if (rel === undefined || rel === '') continue;
      if (h.type === 'char' || h.type === 'block' || h.type === 'fifo') continue;
      const parent = await resolveDir(parentOf(rel));
      const path = join(parent, baseOf(rel));
      const existing = lstatSync(path, { throwIfNoEntry: false });
      const clash = (call: string) => new BerthError('USAGE', `error creating "${opts.display(rel)}": ${call} ${opts.display(rel)}: file exists`);
      if (h.type === 'dir') {
        if (existing?.isDirectory()) continue; // merged: an existing directory keeps its metadata
        if (existing) {
          if (!opts.overwrite) throw clash('mkdir');
          unlinkSync(path);
        }
        mkdirSync(path, 0o700);
        const o = owner(h);
        lchownSync(path, o.uid, o.gid);
        // Reached again through `resolveDir`, never through this path: a link swapped in for it is not followed.
        dirMeta.push({ rel, mode: h.mode, mtime: h.mtime });
        continue;
      }
      if (existing?.isDirectory()) {
        if (!opts.overwrite) throw clash(h.type === 'symlink' ? 'symlink' : h.type === 'link' ? 'link' : 'open');
        rmSync(path, { recursive: true, force: true });
        dirs.forEach((_, k) => (k === rel || k.startsWith(`${rel}/`)) && dirs.delete(k));
      } else if (existing) {
        unlinkSync(path);
      }
      const o = owner(h);
      if (h.type === 'file') {
        const fd = openSync(path, O_CREATE_FILE, 0o600);
        try {
          for await (const chunk of body) for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
          fchownSync(fd, o.uid, o.gid);
          fchmodSync(fd, h.mode); // after chown, which clears setuid/setgid
          futimesSync(fd, h.atime ?? h.mtime, h.mtime);
        } finally {
          closeSync(fd);
        }
      } else if (h.type === 'symlink') {
        symlinkSync(h.linkname, path);
        lchownSync(path, o.uid, o.gid);
        lutimesSync(path, h.mtime, h.mtime);
      } else {
        const target = opts.rename ? opts.rename(entryPath(h.linkname)) : entryPath(h.linkname);
        if (!target) throw new BerthError('USAGE', `hard link "${printable(h.name)}" names "${printable(h.linkname)}", which is not in the archive`);
        linkSync(join(await resolveDir(parentOf(target)), baseOf(target)), path);
      }
    }
    await reader.drain();
  } catch (e) {
    await reader.close().catch(() => {});
    if (e instanceof BerthError) throw e;
    throw new BerthError('IO', `copying: ${(e as Error).message}`, { cause: e });
  }
  // Directory modes and times last: making their entries changed them.
  for (const d of dirMeta.reverse()) {
    const path = await resolveDir(d.rel).catch(() => undefined);
    if (path === undefined) continue;
    chmodSync(path, d.mode);
    lutimesSync(path, d.mtime, d.mtime);
  }
}

/** Whether the first bytes of an (uncompressed) stream are a tar header: "ustar" at offset 257, or a v7 header whose checksum adds up. */
export function looksLikeTar(head: Uint8Array): boolean {
  if (head.length < 512) return false;
  const magic = Buffer.from(head.subarray(257, 262)).toString('latin1');
  if (magic === 'ustar') return true;
  const field = Buffer.from(head.subarray(148, 156))
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : head[i]!;
  return sum === parseInt(field, 8);
}

/**
 * Opens a tar stream that may be compressed (gzip, zstd): its plain content, and whether it starts
 * like a tar at all, so a caller can refuse other input before unpacking anything.
 */
export async function openTarStream(input: Readable): Promise<{ stream: Readable; isTar: boolean }> {
  const stream = await autoDecompress(input);
  const chunks: Buffer[] = [];
  let length = 0;
  await new Promise<void>((resolve, reject) => {
    const done = (e?: unknown) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', done);
      if (e) reject(e);
      else resolve();
    };
    const onEnd = () => done();
    const onReadable = () => {
      let c: Buffer | null;
      while (length < 512 && (c = stream.read() as Buffer | null) !== null) {
        chunks.push(c);
        length += c.length;
      }
      if (length >= 512) done();
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', done);
    onReadable();
  });
  const head = Buffer.concat(chunks);
  const isTar = looksLikeTar(head);
  if (stream.readableEnded) return { stream: Readable.from([head]), isTar };
  if (head.length > 0) stream.unshift(head);
  return { stream, isTar };
}
