import { execFileAsync as run } from '../../util/exec-file.js';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { chmod, lchown, lstat, mkdir, open, readdir, rm } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { resolveInRoot, rootReader } from '../containers/rootfs-path.js';
import { resolveUser } from '../../runtime/user.js';
import { mountOverlay, unmountOverlay } from '../../store/overlay.js';
import type { Store } from '../../store/store.js';
import { PatternMatcher } from '../../dockerfile/index.js';
import { BerthError } from '../../util/errors.js';
import { walkSource, type BuildContext, type CopySource, type WalkedSources } from './context.js';

export interface CopyPlan {
  sources: CopySource[];
  /** The context the sources come from (its exclusions apply below a directory source). */
  ctx?: BuildContext;
  /** Absolute path in the image; a trailing `/` makes it a directory. */
  dest: string;
  /** Owner of what is copied; undefined keeps the source's (COPY --from) or root's (context). */
  owner?: { uid: number; gid: number };
  /** --chmod: mode for every copied file and directory. */
  mode?: number;
  /** ADD: a local tar archive is unpacked into the destination instead of copied. */
  extractArchives?: boolean;
  /** --parents: each source lands at the destination directory plus its `keep` path. */
  parents?: boolean;
  /**
   * --exclude: .dockerignore patterns, matched against a path below a directory source (below the
   * pivot with --parents) and against a file source's name.
   */
  exclude?: readonly string[];
  /** What hashing the sources walked and read already (hashSources): not walked or read again. */
  walked?: WalkedSources;
}

/**
 * Copies the sources into a mounted root as COPY and ADD do: a directory's content goes into the
 * destination, a single file may be renamed, several sources need a directory. Every path inside
 * the root is resolved as the container would see it, so a symlink in the image cannot send a file
 * outside it.
 */
export async function copyInto(root: string, plan: CopyPlan): Promise<void> {
  const destPath = posix.normalize(plan.dest);
  const single = plan.sources.length === 1 ? plan.sources[0]! : undefined;
  const singleIsFile = single !== undefined && !(await lstat(single.path)).isDirectory();
  let destIsDir = plan.dest.endsWith('/') || !singleIsFile || plan.parents === true;
  if (!destIsDir) {
    const existing = await lstat(await resolveInRoot(root, destPath)).catch(() => undefined);
    if (existing?.isDirectory()) destIsDir = true;
  }
  const owner = plan.owner ?? (plan.ctx ? { uid: 0, gid: 0 } : undefined);
  const destDir = destIsDir ? destPath : posix.dirname(destPath);
  await mkdirInRoot(root, destDir, owner ?? { uid: 0, gid: 0 });

  const matcher = plan.exclude?.length ? new PatternMatcher([...plan.exclude]) : undefined;
  // Files with several names in the sources keep them as hard links in the image, as podman
  // and docker copy them: "dev:ino" to where the first name was written.
  const links = new Map<string, string>();
  for (const source of plan.sources) {
    const st = await lstat(source.path);
    const keep = plan.parents ? (source.keep ?? source.rel) : '';
    const named = plan.parents ? keep : st.isDirectory() ? '' : (source.name ?? basename(source.path));
    if (matcher && named !== '' && matcher.matchesOrParentMatches(named)) continue;
    if (!st.isDirectory() && plan.extractArchives && !source.noExtract && (await isArchive(source.path))) {
      const hostDir = await resolveInRoot(root, destDir);
      try {
        await run('tar', ['-x', '-f', source.path, '-C', hostDir]);
      } catch (e) {
        throw new BerthError('IO', `ADD: extracting ${source.rel}: ${(e as { stderr?: string }).stderr?.trim() ?? (e as Error).message}`, { cause: e });
      }
      continue;
    }
    let base: string;
    if (keep !== '') {
      base = posix.join(destDir, keep);
      await mkdirInRoot(root, posix.dirname(base), owner ?? { uid: 0, gid: 0 });
    } else base = st.isDirectory() ? destDir : destIsDir ? posix.join(destDir, source.name ?? basename(source.path)) : destPath;
    // Host paths of the directories this copy made or kept: a child's parent is then known without
    // resolving it again (it is a real directory, no link to follow).
    const dirs = new Map<string, string>();
    for (const entry of plan.walked?.entries.get(source) ?? (await walkSource(source, plan.ctx))) {
      if (st.isDirectory() && entry.rel === '' && keep === '') continue; // the destination directory keeps its own metadata
      if (matcher && entry.rel !== '' && matcher.matchesOrParentMatches(keep === '' ? entry.rel : `${keep}/${entry.rel}`)) continue;
      const to = entry.rel === '' ? base : posix.join(base, entry.rel);
      const parent = posix.dirname(to);
      let parentHost = dirs.get(parent);
      if (parentHost === undefined) {
        parentHost = await resolveInRoot(root, parent);
        dirs.set(parent, parentHost);
      }
      const host = join(parentHost, posix.basename(to));
      const linkKey = entry.st.isFile() && entry.st.nlink > 1 ? `${entry.st.dev}:${entry.st.ino}` : undefined;
      const first = linkKey === undefined ? undefined : links.get(linkKey);
      if (first !== undefined) linkEntry(first, to, host);
      else copyEntry(entry.path, entry.st, to, host, owner, plan.mode, plan.walked?.contents.get(entry.path));
      if (linkKey !== undefined && first === undefined) links.set(linkKey, host);
      if (entry.st.isDirectory()) dirs.set(to, host);
    }
  }
}

/**
 * One entry, with synchronous calls: a COPY of a large context is tens of thousands of them, and a
 * thread-pool round trip each would cost more than the calls themselves.
 */
function copyEntry(
  from: string,
  st: Stats,
  to: string,
  host: string,
  owner: { uid: number; gid: number } | undefined,
  mode: number | undefined,
  content?: Buffer,
): void {
  const existing = lstatSync(host, { throwIfNoEntry: false });
  const uid = owner?.uid ?? st.uid;
  const gid = owner?.gid ?? st.gid;
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(host, { force: true });
    if (!existing?.isDirectory()) mkdirSync(host);
    lchownSync(host, uid, gid);
    chmodSync(host, mode ?? st.mode & 0o7777);
    utimesSync(host, st.atime, st.mtime);
    return;
  }
  if (existing) {
    if (existing.isDirectory()) throw new BerthError('IO', `cannot replace directory ${to} with a file`);
    rmSync(host, { force: true });
  }
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), host);
    lchownSync(host, uid, gid);
    lutimesSync(host, st.atime, st.mtime);
  } else if (st.isFile()) {
    let fd: number;
    if (content !== undefined) fd = writeBytes(host, content);
    else if (st.size <= SMALL_FILE) fd = writeBytes(host, readWhole(from, st.size));
    else {
      copyFileSync(from, host);
      fd = openSync(host, constants.O_WRONLY | constants.O_NOFOLLOW);
    }
    try {
      fchownSync(fd, uid, gid);
      // chown clears set-id bits, so the mode goes on after it.
      fchmodSync(fd, mode ?? st.mode & 0o7777);
      futimesSync(fd, st.atime, st.mtime);
    } finally {
      closeSync(fd);
    }
  }
  // Sockets, fifos and devices are not copied, as BuildKit skips them in a context.
}

/** Another name for a file this copy already wrote: a hard link to it, replacing what was there. */
function linkEntry(first: string, to: string, host: string): void {
  const existing = lstatSync(host, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw new BerthError('IO', `cannot replace directory ${to} with a file`);
  if (existing) rmSync(host, { force: true });
  linkSync(first, host);
}

/** Files up to this size are read whole and written: copy_file_range through overlayfs costs more than the bytes. */
const SMALL_FILE = 1 << 20;

/** A file's bytes, read whole (up to `size`). */
function readWhole(from: string, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  const src = openSync(from, constants.O_RDONLY | constants.O_NOFOLLOW);
  let n = 0;
  try {
    for (let r; n < size && (r = readSync(src, buf, n, size - n, null)) > 0; ) n += r;
  } finally {
    closeSync(src);
  }
  return n === size ? buf : buf.subarray(0, n);
}

/** Writes `bytes` into a new file `to`; returns it open, for its owner, mode and times. */
function writeBytes(to: string, bytes: Buffer): number {
  const dst = openSync(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(dst, bytes, off, bytes.length - off);
  } catch (e) {
    closeSync(dst);
    throw e;
  }
  return dst;
}

/** Makes a directory inside the root; the components it creates belong to `owner`. */
async function mkdirInRoot(root: string, dir: string, owner: { uid: number; gid: number }): Promise<void> {
  let current = '/';
  for (const part of dir.split('/').filter(Boolean)) {
    current = posix.join(current, part);
    const host = await resolveInRoot(root, current);
    const st = await lstat(host).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) throw new BerthError('IO', `${current} exists in the image and is not a directory`);
    await mkdir(host, { mode: 0o755 });
    await chmod(host, 0o755);
    await lchown(host, owner.uid, owner.gid);
  }
}

/** gzip, bzip2, xz or zstd magic, or a tar's `ustar` at 257: what ADD unpacks. */
async function isArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(263);
    const { bytesRead } = await fh.read(buf, 0, 263, 0);
    const b = buf.subarray(0, bytesRead);
    if (b[0] === 0x1f && b[1] === 0x8b) return true;
    if (b.subarray(0, 3).toString('latin1') === 'BZh') return true;
    if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
    if (b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return true;
    return bytesRead >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/** `--chown=user[:group]`: numbers as they are, names from the image's own passwd and group files. */
export async function ownerOf(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const [u = '', g] = spec.split(':', 2);
  if (/^\d+$/.test(u) && (g === undefined || /^\d+$/.test(g))) return { uid: Number(u), gid: Number(g ?? u) };
  const user = await resolveUser(rootReader(root), spec);
  return { uid: user.uid, gid: user.gid };
}

/** The sources of a COPY --from, inside the source image's mounted root (globs on the last component). */
export async function imageSources(root: string, words: string[]): Promise<CopySource[]> {
  const out: CopySource[] = [];
  for (const w of words) {
    const clean = posix.normalize(`/${w}`);
    const base = posix.basename(clean);
    if (/[*?[]/.test(base)) {
      const dir = await resolveInRoot(root, posix.dirname(clean));
      const re = new RegExp(
        `^${base
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      );
      const names = (await readdir(dir).catch(() => [])).filter((n) => re.test(n)).sort();
      if (names.length === 0) throw new BerthError('IO', `building: no source files were specified: "${w}" matches nothing`);
      for (const n of names) out.push({ path: join(dir, n), rel: posix.join(posix.dirname(clean), n).slice(1), isDir: false });
      continue;
    }
    const path = await resolveInRoot(root, clean);
    const st = await lstat(path).catch(() => undefined);
    if (!st) throw new BerthError('IO', `building: copier: stat: "${clean}": no such file or directory`);
    out.push({ path, rel: clean.slice(1), isDir: st.isDirectory() });
  }
  return out;
}

/**
 * Mounts the image whose layers are `chain` with a fresh upperdir (and the COPY --from image's,
 * read through its own overlay), lets `fill` write into the root, and returns the upperdir: the
 * layer's content.
 */
export async function copyLayer(
  store: Store,
  chain: readonly string[],
  sourceImage: string | undefined,
  fill: (root: string, sourceRoot?: string) => Promise<void>,
): Promise<{ dir: string; upper: string }> {
  const dir = await store.tmp.make('build-copy');
  const sourceLayers = sourceImage ? ((await store.images()).find((i) => i.id === sourceImage)?.layers ?? []) : [];
  const target = { upper: join(dir, 'diff'), work: join(dir, 'work'), merged: join(dir, 'merged') };
  const source = { upper: join(dir, 'src-diff'), work: join(dir, 'src-work'), merged: join(dir, 'src-merged') };
  try {
    await mountOverlay(
      store.root,
      chain.map((c) => store.layers.diffDir(c)),
      target,
      { volatile: true },
    );
    try {
      if (sourceImage)
        await mountOverlay(
          store.root,
          sourceLayers.map((c) => store.layers.diffDir(c)),
          source,
          { volatile: true },
        );
      await fill(target.merged, sourceImage ? source.merged : undefined);
    } finally {
      if (sourceImage) await unmountOverlay(source);
      await unmountOverlay(target);
    }
    // overlay leaves its work dir in the upper's filesystem: only `diff` is the layer.
    await mkdir(target.upper, { recursive: true });
    return { dir, upper: target.upper };
  } catch (e) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * --parents: the path each source keeps below the destination. A `/./` in the source word is the
 * pivot (BuildKit's): only what follows it is kept; without one, the whole path from the root.
 */
export function keepParents(sources: CopySource[], word: string): CopySource[] {
  const cut = word.indexOf('/./');
  const pivot = cut < 0 ? '' : posix.normalize(`/${word.slice(0, cut)}`).replace(/^\/+|\/+$/g, '');
  return sources.map((s) => {
    const inside = pivot === '' ? s.rel : s.rel === pivot ? '' : s.rel.startsWith(`${pivot}/`) ? s.rel.slice(pivot.length + 1) : s.rel;
    return { ...s, keep: inside };
  });
}
