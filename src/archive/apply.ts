import {
  chmodSync,
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
  write,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { BerthError, errnoCode } from '../util/errors.js';
import { ancestors, baseOf, entryPath, parentOf, printable, shellQuote, symlinkClimbsOut } from './_paths.js';
import { lastLine, run } from './_process.js';
import { TarReader, type TarHeader } from './_tar-reader.js';
import { isOverlayXattr, setXattrs, type XattrTable } from './_xattrs.js';

export interface ApplyOptions {
  /** Leave files owned by the current user instead of the tar's uid/gid (rootless). */
  ignoreOwnership?: boolean;
  /**
   * Do not hash the tar: the caller hashes these very bytes itself (an uncompressed layer stored as
   * a blob while it is unpacked has its diff ID as its digest), so the work is not done twice.
   */
  skipDiffID?: boolean;
}

export interface ApplyResult {
  /** sha256 of every byte of the uncompressed tar read from the stream; undefined with skipDiffID. */
  diffID: string | undefined;
  /** Bytes of regular-file content unpacked (each hard-linked file counted once). */
  size: number;
}

/**
 * Unpacks an uncompressed layer tar into `dir`, an existing empty directory that becomes an
 * overlay lowerdir: whiteouts `.wh.NAME` become 0:0 character devices and `.wh..wh..opq` the
 * `trusted.overlay.opaque=y` xattr. The tar is read once, hashed as it streams (the diffID), and
 * file bodies go straight to disk, so memory stays flat whatever the layer's size.
 *
 * Nothing is ever written outside `dir`: absolute names, ".." climbing out, entries under a symlink,
 * hard links to outside, and relative symlinks climbing above the root are refused (PATH_ESCAPE).
 * Device nodes and xattrs, which Node cannot make, are created at the end by one `sh` (mknod) run
 * and one `setfattr` run; xattrs the file system or user cannot hold (ENOTSUP, EPERM) are skipped,
 * as containers/storage does, and overlayfs's own (`trusted.overlay.*`) are never taken from a tar.
 * Like docker: PAX global headers and top-level aufs metadata (`.wh..wh.plnk`) are ignored, bytes
 * after the end-of-archive marker are hashed but not read as entries, and a tar that ends on an
 * entry boundary without the marker is accepted. GNU sparse files are refused (LAYER_INVALID).
 *
 * On failure it rejects with a BerthError (LAYER_INVALID, PATH_ESCAPE, IO,
 * or the input stream's own error) after destroying `tar` and waiting for any process it started;
 * the caller removes `dir`, which may hold part of the layer.
 */
export async function applyLayer(tar: Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const reader = new TarReader(tar, { hash: !opts.skipDiffID });
  const layer = new LayerWriter(dir, opts.ignoreOwnership ?? false);
  try {
    for await (const entry of reader.entries()) await layer.add(entry.header, entry.body);
    await reader.drain();
    await layer.finish();
  } catch (e) {
    await reader.close().catch(() => {});
    if (e instanceof BerthError) throw e;
    throw new BerthError('IO', `cannot read layer: ${(e as Error).message}`, { cause: e });
  }
  return { diffID: reader.digest(), size: layer.size };
}

interface Node {
  kind: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
}

interface DirMeta {
  mode: number;
  atime?: number;
  mtime?: number;
}

const O_CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const OPAQUE = 'trusted.overlay.opaque';
/** Body chunks up to this size are written synchronously; bigger ones go to the thread pool. */
const SYNC_WRITE_MAX = 128 * 1024;
const writeAsync = promisify(write);

/**
 * The state of one layer being unpacked. Paths are relative to the root ("" is the root).
 *
 * Metadata system calls (open, mkdir, chown, utimes...) are synchronous: each takes microseconds,
 * while a round trip through libuv's thread pool costs tens, which made unpacking many small
 * files several times slower. The event loop still runs between chunks of input.
 */
class LayerWriter {
  size = 0;
  /** Directories known to be real directories, made or checked by us: never symlinks. */
  private readonly dirs = new Set<string>(['']);
  /** Device nodes and FIFOs to make in one batch. */
  private readonly nodes = new Map<string, Node>();
  private readonly xattrs: XattrTable = new Map();
  private readonly opaque = new Set<string>();
  /** Modes and times of directories, set at the end, after their content. */
  private readonly dirMeta = new Map<string, DirMeta>();

  constructor(
    private readonly root: string,
    private readonly ignoreOwnership: boolean,
  ) {}

  private abs(rel: string): string {
    return rel === '' ? this.root : join(this.root, rel);
  }

  async add(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const rel = entryPath(h.name);
    // aufs metadata at the top (.wh..wh.plnk, .wh..wh.aufs): skipped, as docker does.
    if (rel.startsWith('.wh..wh.') && rel !== '.wh..wh..opq') return;
    try {
      const base = baseOf(rel);
      if (base.startsWith('.wh.')) return this.whiteout(rel, h);
      if (rel === '') {
        if (h.type !== 'dir') throw new BerthError('LAYER_INVALID', `layer entry "${printable(h.name)}" names the root but is not a directory`);
      } else {
        this.ensureParents(rel, h.name);
      }
      switch (h.type) {
        case 'file':
          await this.file(rel, h, body);
          break;
        case 'dir':
          this.dir(rel, h);
          break;
        case 'symlink':
          this.symlink(rel, h);
          break;
        case 'link':
          await this.hardlink(rel, h);
          break;
        case 'char':
        case 'block':
        case 'fifo':
          this.node(rel, h);
          break;
      }
      for (const [name, value] of h.xattrs) {
        if (isOverlayXattr(name)) continue;
        let attrs = this.xattrs.get(rel);
        if (!attrs) this.xattrs.set(rel, (attrs = new Map()));
        attrs.set(name, value);
      }
    } catch (e) {
      if (e instanceof BerthError) throw e;
      throw new BerthError('IO', `cannot unpack layer entry "${printable(h.name)}": ${(e as Error).message}`, { cause: e });
    }
  }

  /** Makes sure every ancestor of `rel` is a real directory, creating missing ones. */
  private ensureParents(rel: string, name: string): void {
    for (const p of ancestors(rel)) {
      if (this.dirs.has(p)) continue;
      if (this.nodes.has(p)) throw notDir(name, p);
      const st = lstatSync(this.abs(p), { throwIfNoEntry: false });
      if (st === undefined) {
        mkdirSync(this.abs(p), 0o755);
        this.dirMeta.set(p, { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        throw new BerthError('PATH_ESCAPE', `layer entry "${printable(name)}" goes through the symlink "${printable(p)}"`);
      } else if (!st.isDirectory()) {
        throw notDir(name, p);
      }
      this.dirs.add(p);
    }
  }

  /** Removes whatever is at `rel` (made earlier in this layer) and forgets what was pending for it. */
  private remove(rel: string): void {
    const wasDir = this.dirs.has(rel);
    if (!this.nodes.delete(rel)) rmSync(this.abs(rel), { recursive: true, force: true });
    for (const table of [this.dirs, this.nodes, this.xattrs, this.dirMeta, this.opaque]) {
      table.delete(rel);
      if (!wasDir) continue;
      for (const key of table.keys()) if (key.startsWith(`${rel}/`)) table.delete(key);
    }
  }

  /** Runs `make`; if something is already at `rel`, removes it and runs `make` again. */
  private create<T>(rel: string, make: () => T): T {
    if (this.nodes.has(rel)) this.remove(rel);
    try {
      return make();
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    }
    this.remove(rel);
    return make();
  }

  private whiteout(rel: string, h: TarHeader): void {
    const parent = parentOf(rel);
    const base = baseOf(rel);
    this.ensureParents(rel, h.name);
    if (base === '.wh..wh..opq') {
      this.opaque.add(parent);
      return;
    }
    if (base.startsWith('.wh..wh.')) return; // aufs metadata
    const name = base.slice('.wh.'.length);
    if (name === '' || name === '.' || name === '..') throw new BerthError('LAYER_INVALID', `layer entry "${printable(h.name)}" is not a valid whiteout`);
    this.node(parent === '' ? name : `${parent}/${name}`, { ...h, type: 'char', mode: 0, devmajor: 0, devminor: 0 });
  }

  private async file(rel: string, h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const fd = this.create(rel, () => openSync(this.abs(rel), O_CREATE_FILE, 0o600));
    try {
      let written = 0;
      for await (const chunk of body) {
        for (let off = 0; off < chunk.length; ) {
          const len = chunk.length - off;
          off += len <= SYNC_WRITE_MAX ? writeSync(fd, chunk, off, len) : (await writeAsync(fd, chunk, off, len)).bytesWritten;
        }
        written += chunk.length;
      }
      if (written !== h.size) throw new BerthError('LAYER_INVALID', `layer entry "${printable(h.name)}" is truncated`);
      if (!this.ignoreOwnership) fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode); // after chown, which clears setuid/setgid
      futimesSync(fd, h.atime ?? h.mtime, h.mtime);
    } finally {
      closeSync(fd);
    }
    this.size += h.size;
  }

  private dir(rel: string, h: TarHeader): void {
    const path = this.abs(rel);
    if (this.nodes.has(rel)) this.remove(rel);
    try {
      mkdirSync(path, 0o700);
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
      // An existing directory only gets new metadata; anything else is replaced.
      if (!lstatSync(path).isDirectory()) {
        this.remove(rel);
        mkdirSync(path, 0o700);
      }
    }
    this.dirs.add(rel);
    if (!this.ignoreOwnership) lchownSync(path, h.uid, h.gid);
    this.dirMeta.set(rel, { mode: h.mode, atime: h.atime ?? h.mtime, mtime: h.mtime });
  }

  private symlink(rel: string, h: TarHeader): void {
    if (h.linkname === '') throw new BerthError('LAYER_INVALID', `layer entry "${printable(h.name)}" is a symlink with an empty target`);
    if (symlinkClimbsOut(rel, h.linkname)) {
      throw new BerthError('PATH_ESCAPE', `layer entry "${printable(h.name)}" is a symlink to "${printable(h.linkname)}", which climbs above the layer root`);
    }
    const path = this.abs(rel);
    this.create(rel, () => symlinkSync(h.linkname, path));
    if (!this.ignoreOwnership) lchownSync(path, h.uid, h.gid);
    lutimesSync(path, h.atime ?? h.mtime, h.mtime);
  }

  private async hardlink(rel: string, h: TarHeader): Promise<void> {
    if (h.linkname.startsWith('/')) {
      throw new BerthError('PATH_ESCAPE', `layer entry "${printable(h.name)}" is a hard link to the absolute path "${printable(h.linkname)}"`);
    }
    let target: string;
    try {
      target = entryPath(h.linkname);
    } catch (e) {
      if (e instanceof BerthError && e.code === 'PATH_ESCAPE') {
        throw new BerthError('PATH_ESCAPE', `layer entry "${printable(h.name)}" is a hard link to "${printable(h.linkname)}", outside the layer root`);
      }
      throw e;
    }
    const notEarlier = (): BerthError =>
      new BerthError('LAYER_INVALID', `layer entry "${printable(h.name)}" is a hard link to "${printable(h.linkname)}", which is not earlier in the layer`);
    // The target's directories must be ones this layer made: so the link cannot reach through a symlink.
    if (target === '' || !ancestors(target).every((p) => this.dirs.has(p))) throw notEarlier();
    if (target === rel) return;
    if (this.nodes.has(target)) await this.makeNodes();
    const st = lstatSync(this.abs(target), { throwIfNoEntry: false });
    if (st === undefined) throw notEarlier();
    if (st.isDirectory())
      throw new BerthError('LAYER_INVALID', `layer entry "${printable(h.name)}" is a hard link to the directory "${printable(h.linkname)}"`);
    this.create(rel, () => linkSync(this.abs(target), this.abs(rel)));
  }

  private node(rel: string, h: TarHeader): void {
    if (this.nodes.has(rel) || lstatSync(this.abs(rel), { throwIfNoEntry: false }) !== undefined) this.remove(rel);
    const kind = h.type === 'char' ? 'c' : h.type === 'block' ? 'b' : 'p';
    const atime = h.atime ?? h.mtime;
    this.nodes.set(rel, { kind, major: h.devmajor, minor: h.devminor, mode: h.mode, uid: h.uid, gid: h.gid, atime, mtime: h.mtime });
  }

  /** Makes every pending device node and FIFO with one `sh` running mknod, then sets their metadata. */
  private async makeNodes(): Promise<void> {
    if (this.nodes.size === 0) return;
    const lines = ['set -e'];
    for (const [rel, n] of this.nodes) {
      const dev = n.kind === 'p' ? '' : ` ${n.major} ${n.minor}`;
      lines.push(`mknod -m 600 ${shellQuote(`./${rel}`)} ${n.kind}${dev}`);
    }
    const r = await run('sh', ['-s'], { cwd: this.root, input: lines.join('\n') + '\n' });
    if (r.code !== 0) throw new BerthError('IO', `cannot create device nodes: ${lastLine(r.stderr) || `sh exit status ${r.code}`}`);
    for (const [rel, n] of this.nodes) {
      const path = this.abs(rel);
      if (!this.ignoreOwnership) lchownSync(path, n.uid, n.gid);
      chmodSync(path, n.mode);
      lutimesSync(path, n.atime, n.mtime);
    }
    this.nodes.clear();
  }

  /** Device nodes, then xattrs, then directory modes and times (last, as making entries changes them). */
  async finish(): Promise<void> {
    await this.makeNodes();
    // Opaque markers must be set; xattrs from the tar are skipped where the file system refuses them.
    await setXattrs(this.root, new Map([...this.opaque].map((rel) => [rel, new Map([[OPAQUE, Buffer.from('y')]])])), false);
    await setXattrs(this.root, this.xattrs, true);
    for (const [rel, m] of this.dirMeta) {
      const path = this.abs(rel);
      chmodSync(path, m.mode);
      if (m.mtime !== undefined) lutimesSync(path, m.atime ?? m.mtime, m.mtime);
    }
  }
}

function notDir(name: string, p: string): BerthError {
  return new BerthError('LAYER_INVALID', `layer entry "${printable(name)}" is under "${printable(p)}", which is not a directory`);
}
