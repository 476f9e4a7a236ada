import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFile, realpath, stat } from 'node:fs/promises';
import { closeSync, type Stats } from 'node:fs';
import { basename, dirname, posix, resolve as resolveHost } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extractTar, openTarStream } from '../../archive/extract.js';
import { resolveUser } from '../../runtime/user.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { volumeDataDir } from '../volumes/volumes.js';
import { withRootfs } from './filesystem.js';
import { getContainer } from './lifecycle.js';
import { lstatInView, openDirInView, resolveInView, type RootView } from './rootfs-path.js';

/** One side of `cp`: a path in a container, a path on the host, or a tar stream (`-`). */
export type CopyLocation = { container: string; path: string } | { host: string } | { stream: true };

/** podman's reading of a `cp` argument: `-`, `CONTAINER:PATH`, or a local path (one starting with `/` or `.` stays local). */
export function parseCopyLocation(arg: string): CopyLocation {
  if (arg === '-') return { stream: true };
  const i = arg.indexOf(':');
  if (i <= 0 || arg.startsWith('/') || arg.startsWith('.')) return { host: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

export interface CopyOptions {
  /** Chown what lands in a container to the container's user (podman's `-a`, default true); else keep the owners. */
  archive: boolean;
  /** Replace a directory by a non-directory and the reverse. */
  overwrite: boolean;
  stdin: Readable;
  stdout: Writable;
}

/** A container opened for copying: how its files look from the host, and its user's IDs. */
interface ContainerSide {
  name: string;
  record: ContainerRecord;
  view: RootView;
}

/** What is copied: `name` in the host directory `dir` (`.` for a directory's content), shown as `base`. */
interface Source {
  dir: string;
  name: string;
  base: string;
  isDir: boolean;
  /** `SRC/.`: the directory's content, not the directory. */
  contents: boolean;
  /** `dir` opened without following links (a container's): tar reads through it. */
  fd?: number;
}

/**
 * `cp`, as podman's: a file or directory between a container and the host, between two
 * containers, or a tar stream on either side. Paths in a container are relative to its WORKDIR and
 * resolved inside it (symlinks followed from its root, never out of it), and writes land where the
 * container sees the path: in its tmpfs, volumes and bind mounts too.
 */
export async function copyFiles(store: Store, src: CopyLocation, dest: CopyLocation, opts: CopyOptions): Promise<void> {
  if ('container' in src) {
    await withContainer(store, src.container, async (from) => {
      const source = await containerSource(from, src.path);
      if ('stream' in dest) return void (await pipeline(tarSource(source, source.base), opts.stdout));
      if ('host' in dest) return copyTo(source, await hostDestination(dest.host), opts);
      await withContainer(store, dest.container, async (to) => copyTo(source, await containerDestination(to, dest.path, opts), opts));
    });
    return;
  }
  // podman's words when neither side names a container.
  if (!('container' in dest)) throw new BerthError('USAGE', 'name or ID cannot be empty');
  await withContainer(store, dest.container, async (to) => {
    if ('stream' in src) return copyStream(opts.stdin, to, dest.path, opts);
    return copyTo(await hostSource(src.host), await containerDestination(to, dest.path, opts), opts);
  });
}

/**
 * Opens a container for copying. A running (or paused) one is reached through its init process's
 * root, `/proc/PID/root`: the kernel then shows its mount namespace itself, with its tmpfs,
 * volumes and bind mounts where the container sees them, which no reconstruction from records
 * can match (a tmpfs lives only in that namespace). Any other is mounted (as podman does) and
 * its volumes and bind mounts taken from its record, mapped onto their host directories.
 */
async function withContainer<T>(store: Store, name: string, fn: (side: ContainerSide) => Promise<T>): Promise<T> {
  const c = await getContainer(store, name);
  const live = (c.state.status === 'running' || c.state.status === 'paused') && c.state.pid > 0;
  if (live) {
    const root = `/proc/${c.state.pid}/root`;
    if (
      await stat(root).then(
        () => true,
        () => false,
      )
    )
      return fn({ name, record: c, view: { root, mounts: [] } });
  }
  return withRootfs(store, c.id, async (rootfs) => {
    const mounts: { destination: string; source: string }[] = [];
    for (const m of c.config.mountSpecs ?? []) {
      if (m.type === 'bind') mounts.push({ destination: m.destination, source: m.source });
      // A tmpfs of a stopped container does not exist: files go into the root, which the tmpfs copies up when it starts.
      else if (m.type === 'volume') mounts.push({ destination: m.destination, source: volumeDataDir(store, m.name) });
    }
    return fn({ name, record: c, view: { root: rootfs, mounts } });
  });
}

/** A path in a container as the user gave it: relative ones start at the container's WORKDIR. */
function containerPath(side: ContainerSide, path: string): string {
  return path.startsWith('/') ? path : posix.join(side.record.config.workdir || '/', path);
}

/** `dir/.`, `.` and `/`: the content of a directory, docker's rule. */
function namesContents(path: string): boolean {
  return path === '.' || path.endsWith('/.') || posix.normalize(path) === '/';
}

function notFound(where: string, path: string, why = 'no such file or directory'): BerthError {
  return new BerthError('USAGE', `"${path}" could not be found ${where}: ${why}`);
}

async function containerSource(side: ContainerSide, path: string): Promise<Source> {
  const abs = containerPath(side, path);
  // The last link is followed too (podman copies what a symlink points to), inside the container.
  const r = await resolveInView(side.view, abs, true);
  const st = await lstatInView(side.view, r.host);
  if (!st || st.isSymbolicLink()) throw notFound(`on container ${side.name}`, path);
  const contents = namesContents(path) && st.isDirectory();
  const base = posix.basename(posix.normalize(abs)) || posix.basename(r.path);
  // Read through a descriptor: a link the container swaps in meanwhile cannot send tar to the host's files.
  const dir = openDirInView(side.view, contents || r.path === '/' ? r.path : posix.dirname(r.path));
  if (!dir) throw notFound(`on container ${side.name}`, path);
  const name = contents || r.path === '/' ? '.' : posix.basename(r.path);
  return { dir: dir.path, fd: dir.fd, name, base, isDir: st.isDirectory(), contents: name === '.' };
}

async function hostSource(path: string): Promise<Source> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw notFound('on the host', path);
  const real = await realpath(path);
  const contents = namesContents(path) && st.isDirectory();
  const base = basename(resolveHost(path));
  return contents
    ? { dir: real, name: '.', base, isDir: true, contents }
    : { dir: dirname(real), name: basename(real), base, isDir: st.isDirectory(), contents };
}

/**
 * A plain tar of the source, made by GNU tar (no links followed inside it, owners as numbers),
 * its top entry named `top` (the source's name as given, when the last component was a link).
 */
function tarSource(src: Source, top: string): Readable {
  // Member names and hard link targets renamed, symlink targets never (flags rhS).
  const transform = src.contents || src.name === top ? [] : [`--transform=s,^${escapeSed(src.name)}\\(/\\|$\\),${escapeSedReplacement(top)}\\1,rhS`];
  // --add-file: a name starting with "-" stays a name.
  const dir = src.fd === undefined ? src.dir : '/proc/self/fd/3';
  const child = spawn(
    'tar',
    ['--numeric-owner', '--xattrs', '--warning=no-file-changed', ...transform, '-C', dir, '-cf', '-', `--add-file=${src.contents ? '.' : src.name}`],
    {
      stdio: ['ignore', 'pipe', 'pipe', ...(src.fd === undefined ? [] : [src.fd])],
    },
  ) as ChildProcessByStdio<null, Readable, Readable>;
  if (src.fd !== undefined) closeSync(src.fd);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  child.on('close', (code) => {
    // 1 is "file changed as we read it": a running container's files may, as podman's copy allows.
    if (code !== 0 && code !== 1) child.stdout.destroy(new BerthError('IO', `copying: ${err.trim().split('\n').at(-1) ?? `tar exited ${code}`}`));
  });
  child.on('error', (e) => child.stdout.destroy(e));
  return child.stdout;
}

const escapeSed = (s: string) => s.replace(/[,\\.*[\]^$]/g, '\\$&');
const escapeSedReplacement = (s: string) => s.replace(/[,\\&]/g, '\\$&');

/** Where a copy goes: into the directory `dir` of `view`, as `name` (`''`: into that directory itself). */
interface Destination {
  kind: 'container' | 'host';
  /** The destination directory as the user sees it (a container path, or a host path). */
  shownDir: string;
  /** Where the destination directory is: `dir` in `view` (the container's, or the host directory's own). */
  view: RootView;
  dir: string;
  /** The destination's named path as given, for messages, and what it is. */
  arg: string;
  where: string;
  /** What is there already: undefined when nothing. */
  existing?: Stats | undefined;
  name: string;
  owner?: { uid: number; gid: number } | undefined;
}

async function containerDestination(side: ContainerSide, path: string, opts: CopyOptions): Promise<Destination> {
  const abs = containerPath(side, path);
  const r = await resolveInView(side.view, abs, true);
  const where = `on container ${side.name}`;
  const existing = await lstatInView(side.view, r.host);
  const owner = opts.archive ? await containerUser(side) : undefined;
  const view = side.view;
  if (existing?.isDirectory()) return { kind: 'container', shownDir: r.path, view, dir: r.path, arg: path, where, existing, name: '', owner };
  const parent = posix.dirname(r.path);
  if (!existing) {
    if (path.endsWith('/') || path.endsWith('/.')) throw notFound(where, path);
    const pst = await lstatInView(side.view, (await resolveInView(side.view, parent, true)).host);
    if (!pst?.isDirectory()) throw notFound(where, path);
  }
  return { kind: 'container', shownDir: parent, view, dir: parent, arg: path, where, existing, name: posix.basename(r.path), owner };
}

async function hostDestination(path: string): Promise<Destination> {
  const abs = resolveHost(path);
  const where = 'on the host';
  const existing = await stat(abs).catch(() => undefined);
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  // What is copied stays inside the destination directory: links under it resolve within it.
  const inside = (dir: string): RootView => ({ root: dir, mounts: [] });
  if (existing?.isDirectory()) return { kind: 'host', shownDir: abs, view: inside(await realpath(abs)), dir: '/', arg: path, where, existing, name: '', owner };
  if (existing && !existing.isFile()) throw new BerthError('USAGE', `invalid destination: "${path}" must be a directory or a regular file`);
  if (path.endsWith('/') || path.endsWith('/.')) throw notFound(where, path, existing ? `stat ${abs}/: not a directory` : 'no such file or directory');
  const parent = await realpath(dirname(abs)).catch(() => undefined);
  if (!parent || !(await stat(parent)).isDirectory()) throw notFound(where, path);
  // A symlink named as the destination is followed (podman writes its target).
  const target = existing ? await realpath(abs) : resolveHost(parent, basename(abs));
  return { kind: 'host', shownDir: dirname(target), view: inside(dirname(target)), dir: '/', arg: path, where, existing, name: basename(target), owner };
}

/** podman's rules between the source's kind and what the destination names, then the copy. */
async function copyTo(src: Source, dest: Destination, opts: CopyOptions): Promise<void> {
  if (dest.existing && !dest.existing.isDirectory()) {
    if (src.isDir) throw new BerthError('USAGE', 'destination must be a directory when copying a directory');
    if (dest.arg.endsWith('/')) {
      if (dest.kind === 'host') throw notFound(dest.where, dest.arg, `stat ${resolveHost(dest.arg)}/: not a directory`);
      throw new BerthError('USAGE', `copying to container: "${posix.join(dest.shownDir, dest.name)}" exists but is not a directory`);
    }
  }
  const name = dest.name || (src.contents ? '' : src.base);
  const top = src.contents ? '.' : src.name;
  const rename = (rel: string): string | undefined => {
    if (src.contents) return rel === '' ? name : name === '' ? rel : `${name}/${rel}`;
    if (rel === top) return name;
    return rel.startsWith(`${top}/`) ? `${name}${rel.slice(top.length)}` : undefined;
  };
  const shown = (rel: string) => (dest.kind === 'host' ? `/${rel}` : posix.join(dest.shownDir, rel));
  const label = dest.kind === 'host' ? 'copying to host' : 'copying to container';
  const tar = tarSource(src, src.name);
  const dirs = dirOpener(dest.view, dest.dir);
  try {
    await extractTar(tar, { rename, resolveDir: dirs.open, owner: dest.owner, overwrite: opts.overwrite, display: shown });
  } catch (e) {
    tar.destroy();
    if (e instanceof BerthError && /^error creating /.test(e.message)) throw new BerthError('USAGE', `${label}: ${e.message}`);
    throw e;
  } finally {
    dirs.close();
  }
}

/**
 * Directories under `dir` of a view, for the extractor: each resolved inside the view, then
 * opened link by link without following any (see {@link openDirInView}), and named by descriptor.
 */
export function dirOpener(view: RootView, dir: string): { open: (rel: string) => Promise<string | undefined>; close: () => void } {
  const fds: number[] = [];
  return {
    open: async (rel) => {
      const r = await resolveInView(view, posix.join(dir, rel), true);
      const d = openDirInView(view, r.path);
      if (d) fds.push(d.fd);
      return d?.path;
    },
    close: () => fds.splice(0).forEach((fd) => closeSync(fd)),
  };
}

/** `cp - CONTAINER:DIR`: a tar (plain or compressed) unpacked into a directory of the container. */
async function copyStream(input: Readable, side: ContainerSide, path: string, opts: CopyOptions): Promise<void> {
  const abs = containerPath(side, path);
  const r = await resolveInView(side.view, abs, true);
  const st = await lstatInView(side.view, r.host);
  if (!st && path.endsWith('/')) throw notFound(`on container ${side.name}`, path);
  if (!st?.isDirectory()) throw new BerthError('USAGE', 'destination must be a directory when copying from stdin');
  const { stream, isTar } = await openTarStream(input);
  if (!isTar) {
    stream.destroy();
    throw new BerthError('USAGE', 'source must be a (compressed) tar archive when copying from stdin');
  }
  const owner = opts.archive ? await containerUser(side) : undefined;
  const dirs = dirOpener(side.view, r.path);
  await extractTar(stream, { resolveDir: dirs.open, owner, overwrite: opts.overwrite, display: (rel) => posix.join(r.path, rel) })
    .catch((e: unknown) => {
      if (e instanceof BerthError && /^error creating /.test(e.message)) throw new BerthError('USAGE', `copying to container: ${e.message}`);
      throw e;
    })
    .finally(() => dirs.close());
}

/** The container's user and primary group, looked up in its own /etc/passwd and /etc/group (root when unset). */
async function containerUser(side: ContainerSide): Promise<{ uid: number; gid: number }> {
  const read = async (p: string) => readFile((await resolveInView(side.view, p, true)).host, 'utf8');
  const u = await resolveUser(read, side.record.config.user ?? '');
  return { uid: u.uid, gid: u.gid };
}

/** What a path in a container is, as the Docker API's archive routes report it (`docker cp` reads it first). */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** The Unix st_mode (type and permission bits). */
  mode: number;
  mtime: Date;
  /** For a symlink, the path in the container it resolves to; else empty. */
  linkTarget: string;
}

/**
 * Stats a path of a container as seen from inside it (relative paths from its WORKDIR, links
 * resolved inside it, the last one not followed). Undefined when nothing is there.
 */
export async function statContainerPath(store: Store, name: string, path: string): Promise<ContainerPathStat | undefined> {
  return withContainer(store, name, async (side) => {
    const abs = containerPath(side, path);
    const r = await resolveInView(side.view, abs, false);
    const st = await lstatInView(side.view, r.host);
    if (!st) return undefined;
    const linkTarget = st.isSymbolicLink() ? (await resolveInView(side.view, abs, true)).path : '';
    return { name: posix.basename(r.path) || '/', size: st.size, mode: st.mode, mtime: st.mtime, linkTarget };
  });
}
