import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError } from '../util/errors.js';
import { printable } from './_paths.js';
import { encodeHeader, END_OF_ARCHIVE, padding, type WriteHeader } from './_tar-writer.js';
import { isOverlayXattr, readXattrs, type XattrTable } from './_xattrs.js';
import { compareStrings } from '../util/compare.js';

export interface TarOptions {
  /**
   * Clamp every mtime to at most this many seconds since the epoch (SOURCE_DATE_EPOCH style), so
   * that rebuilding the same content gives the same layer whenever its files were written.
   */
  timestamp?: number;
  /** Set every mtime to this many seconds since the epoch (buildah's --timestamp); wins over `timestamp`. */
  mtime?: number;
  /** Leave out the entry at this relative path (no leading slash) and, for a directory, all below it. */
  exclude?: (path: string) => boolean;
  /**
   * The owners written for those on disk: a container with its own user namespace keeps its
   * files under the IDs berth's namespace sees, and its layer must say the container's.
   */
  owner?: (uid: number, gid: number) => { uid: number; gid: number };
}

/**
 * An uncompressed tar of an overlay upperdir, in the layer format: a 0:0 character device becomes
 * a `.wh.NAME` whiteout, a directory with `trusted.overlay.opaque=y` (or `user.overlay.opaque=y`)
 * is followed by its `.wh..wh..opq` marker, files hard-linked together become tar hard links,
 * xattrs become `SCHILY.xattr.*` PAX records (overlayfs's own attributes left out). Names are sorted,
 * there are no user/group names nor access times, and mtimes are whole seconds: the same tree gives
 * the same bytes. Sockets are skipped. An upperdir written with overlay's metacopy or redirect_dir
 * features cannot be diffed this way and fails with LAYER_INVALID.
 *
 * The tree must not change while it is read. Errors surface as stream errors.
 */
export function diffDirectory(dir: string, opts: TarOptions = {}): Readable {
  return Readable.from(generate(dir, opts, true), { objectMode: false });
}

/** An uncompressed tar of a plain root file system (import/export): devices stay devices, no whiteouts. */
export function tarDirectory(dir: string, opts: TarOptions = {}): Readable {
  return Readable.from(generate(dir, opts, false), { objectMode: false });
}

interface Walk {
  root: string;
  opts: TarOptions;
  whiteouts: boolean;
  xattrs: XattrTable;
  /** "dev:ino" of a multiply-linked file to the path it was first written under. */
  links: Map<string, string>;
}

const CHUNK = 256 * 1024;
/** Files up to this size go out in one chunk with their header. */
const SMALL = 64 * 1024;

async function* generate(dir: string, opts: TarOptions, whiteouts: boolean): AsyncGenerator<Buffer> {
  const root = resolve(dir);
  const walk: Walk = { root, opts, whiteouts, xattrs: await readXattrs(root), links: new Map() };
  yield* walkDir(walk, '');
  yield END_OF_ARCHIVE;
}

/**
 * Depth first, names sorted. File system calls are synchronous: each takes microseconds, a thread
 * pool round trip tens, and a tree has many small files; the event loop runs between chunks.
 */
async function* walkDir(w: Walk, rel: string): AsyncGenerator<Buffer> {
  const names = readdirSync(rel === '' ? w.root : join(w.root, rel)).sort();
  for (const name of names) {
    const child = rel === '' ? name : `${rel}/${name}`;
    if (w.opts.exclude?.(child)) continue;
    const st = lstatSync(join(w.root, child), { bigint: true });
    yield* entry(w, child, st);
    if (st.isDirectory()) yield* walkDir(w, child);
  }
}

function devNumbers(rdev: bigint): { devmajor: number; devminor: number } {
  // glibc's gnu_dev_major / gnu_dev_minor
  return {
    devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n)),
    devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n)),
  };
}

async function* entry(w: Walk, rel: string, st: BigIntStats): AsyncGenerator<Buffer> {
  const seconds = Number(st.mtimeNs / 1_000_000_000n);
  const mtime = w.opts.mtime ?? (w.opts.timestamp !== undefined ? Math.min(seconds, w.opts.timestamp) : seconds);
  const owner = w.opts.owner?.(Number(st.uid), Number(st.gid)) ?? { uid: Number(st.uid), gid: Number(st.gid) };
  const base = { name: rel, mode: Number(st.mode & 0o7777n), uid: owner.uid, gid: owner.gid, size: 0, mtime };
  const all = w.xattrs.get(rel);
  if (w.whiteouts && all) {
    for (const k of ['metacopy', 'redirect']) {
      if (all.has(`trusted.overlay.${k}`) || all.has(`user.overlay.${k}`)) {
        throw new BerthError('LAYER_INVALID', `cannot diff "${printable(rel)}": it uses overlayfs ${k}, which a layer cannot represent`);
      }
    }
  }
  const xattrs = new Map([...(all ?? [])].filter(([k]) => !isOverlayXattr(k)).sort(([a], [b]) => compareStrings(a, b)));
  const h: WriteHeader = { ...base, type: 'file', xattrs };

  if (st.isDirectory()) {
    yield encodeHeader({ ...h, type: 'dir' });
    const opaque = all?.get('trusted.overlay.opaque') ?? all?.get('user.overlay.opaque');
    if (w.whiteouts && opaque?.toString() === 'y') {
      // As docker and containers/storage write it: a regular file with the directory's owner and times.
      yield encodeHeader({ ...base, name: `${rel}/.wh..wh..opq`, type: 'file', mode: base.mode & 0o777 });
    }
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1n ? w.links.get(key) : undefined;
    if (first !== undefined) {
      yield encodeHeader({ ...h, type: 'link', linkname: first });
      return;
    }
    if (st.nlink > 1n) w.links.set(key, rel);
    const size = Number(st.size);
    const header = encodeHeader({ ...h, size });
    if (size <= SMALL) {
      yield Buffer.concat([header, readSmall(join(w.root, rel), rel, size), padding(size)]);
    } else {
      yield header;
      yield* content(join(w.root, rel), rel, size);
    }
  } else if (st.isSymbolicLink()) {
    yield encodeHeader({ ...h, type: 'symlink', linkname: readlinkSync(join(w.root, rel)) });
  } else if (st.isCharacterDevice() && w.whiteouts && st.rdev === 0n) {
    const i = rel.lastIndexOf('/');
    const name = `${rel.slice(0, i + 1)}.wh.${rel.slice(i + 1)}`;
    yield encodeHeader({ ...base, name, type: 'file', mode: 0o600 });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    yield encodeHeader({ ...h, type: st.isCharacterDevice() ? 'char' : 'block', ...devNumbers(st.rdev) });
  } else if (st.isFIFO()) {
    yield encodeHeader({ ...h, type: 'fifo' });
  }
  // Sockets are left out, as docker does: they mean nothing outside a running process.
}

function shrank(rel: string): BerthError {
  return new BerthError('IO', `"${printable(rel)}" shrank while it was being archived`);
}

/** Exactly `size` bytes of a small file (more are ignored: the header is written already). */
function readSmall(path: string, rel: string, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for (let off = 0; off < size; ) {
      const n = readSync(fd, buf, off, size - off, null);
      if (n === 0) throw shrank(rel);
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

async function* content(path: string, rel: string, size: number): AsyncGenerator<Buffer> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, CHUNK));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) throw shrank(rel);
      left -= n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
  yield padding(size);
}
