import { nodeCrypto } from '../util/crypto.js';
import { execFileAsync as run } from '../util/exec-file.js';
import { constants, existsSync } from 'node:fs';
import { access, chmod, readlink, rename, symlink } from 'node:fs/promises';
import { findExecutable } from '../runtime/oci-runtime.js';
import { isRootless } from '../util/rootless.js';
import { makeDirs } from '../util/dirs.js';
import { isMounted, unmountAll } from '../util/mounts.js';
import { MS_RDONLY, nativeCalls } from '../util/native.js';
import { join, relative } from 'node:path';
import { BerthError } from '../util/errors.js';

/** Where a container's copy-on-write root lives: upper (its changes), work (overlay's), merged (the mount). */
export interface OverlayDirs {
  upper: string;
  work: string;
  merged: string;
}

export function overlayDirs(containerDir: string): OverlayDirs {
  return { upper: join(containerDir, 'diff'), work: join(containerDir, 'work'), merged: join(containerDir, 'merged') };
}

/**
 * A short, stable name for a layer directory under ROOT/l/. The kernel takes at most one page of
 * mount options; with 64-hex paths that is some 40 layers, with these links several hundred
 * (overlay itself stops at 500). The mount runs with ROOT as its working directory so that the
 * lowerdir entries can be relative.
 */
async function shortLink(root: string, layerDiffDir: string): Promise<string> {
  const name = linkName(layerDiffDir);
  const link = join(root, 'l', name);
  const target = relative(join(root, 'l'), layerDiffDir);
  const current = await readlink(link).catch(() => undefined);
  if (current === target) return join('l', name);
  await makeDirs(join(root, 'l'));
  const tmp = `${link}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await symlink(target, tmp);
  await rename(tmp, link);
  return join('l', name);
}

/** The mode of a container's `/`, as podman gives it. */
const UPPER_ROOT_MODE = 0o555;

/**
 * A container's upper directory, made where it is missing: the container's `/` is its root, so it
 * gets r-xr-xr-x, as podman's does (containers/storage makes each layer's root so, and a
 * container's upper as its parent's), whatever mode an image's tar gave. Every maker of an upper
 * (a mount, a commit of a container never started) comes here, so `/` is the same for all.
 */
export async function makeUpperDir(upper: string): Promise<void> {
  if (existsSync(upper)) return;
  await makeDirs(upper);
  await chmod(upper, UPPER_ROOT_MODE);
}

/** A layer's directory: `layers/<chain ID>/diff`, the chain ID a SHA-256 in hex. */
const LAYER_DIFF_DIR = /\/([0-9a-f]{64})\/diff$/;

/**
 * 72 bits of a SHA-256, as 12 characters safe in a mount option. A layer's directory is named by
 * its chain ID, already a SHA-256, so its first 72 bits serve as well as a hash of the path would,
 * and a container's start does not load node:crypto for it (~7 ms of every start). Any other
 * directory is hashed.
 */
export function linkName(layerDiffDir: string): string {
  const id = LAYER_DIFF_DIR.exec(layerDiffDir)?.[1];
  const bits = id ? Buffer.from(id.slice(0, 18), 'hex') : nodeCrypto().createHash('sha256').update(layerDiffDir).digest().subarray(0, 9);
  return bits.toString('base64url').replace(/[-_]/g, 'x');
}

export { isMounted };

/**
 * Mounts the overlay: lower layers top first, as overlayfs wants them. Already mounted is fine.
 * `volatile`: for an upper that is read once and thrown away (a build step's). overlayfs then skips
 * syncing the upper's file system at unmount; that sync forced every file of a 10,000-file COPY to
 * disk, and made deleting them after cost seconds. A volatile upper cannot be mounted again after a
 * crash, which a throwaway one never is.
 */
export async function mountOverlay(
  root: string,
  lowerDiffDirs: string[],
  dirs: OverlayDirs,
  opts: { volatile?: boolean; readOnly?: boolean } = {},
): Promise<void> {
  if (await isMounted(dirs.merged)) return;
  await Promise.all([makeUpperDir(dirs.upper), makeDirs(dirs.work), makeDirs(dirs.merged)]);
  const lowers = await Promise.all([...lowerDiffDirs].reverse().map((d) => shortLink(root, d)));
  if (lowers.length === 0) {
    // overlay needs a lower layer; an image with no layers (FROM scratch, nothing added) gets an empty one.
    const empty = join(root, 'l', 'empty');
    await makeDirs(empty);
    lowers.push(join('l', 'empty'));
  }
  // `readOnly` (an image's mount) keeps an upper dir, which `ro` leaves empty: without one, overlayfs wants two lowers.
  const options = `${opts.readOnly ? 'ro,' : ''}lowerdir=${lowers.join(':')},upperdir=${dirs.upper},workdir=${dirs.work}`;
  const program = process.env.BERTH_MOUNT_PROGRAM;
  if (program) return mountWithProgram(program, root, options, dirs.merged);
  try {
    const mount = kernelOverlayMount(root, lowers, dirs, opts.readOnly === true, options);
    if (opts.volatile) {
      // Kernels before 5.10 do not know the option: mount as usual there.
      const ok = await mount(',volatile').then(
        () => true,
        () => false,
      );
      if (ok) return;
    }
    await mount('');
  } catch (e) {
    // The program's stderr, or the system call's `mount: <reason>`.
    const stderr = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    // A kernel that refuses overlayfs to a user namespace: fuse-overlayfs, as rootless podman falls back.
    const fuse = isRootless() ? findExecutable('fuse-overlayfs') : undefined;
    if (fuse) return mountWithProgram(fuse, root, options, dirs.merged, stderr);
    throw new BerthError(
      'IO',
      `mounting the container's root file system: ${stderr}${isRootless() ? " (rootless: install fuse-overlayfs to mount without the kernel's overlayfs)" : ''}`,
      { cause: e },
    );
  }
}

/**
 * One mount of the kernel's overlayfs with `extra` options after `options`. By the system call
 * itself where the addon is built (no `mount` child: a fork of the whole process and the program's
 * own start, 5-15 ms): its lowerdirs are absolute, as the call cannot be given ROOT as a working
 * directory the way a child is, and `ro` is a flag. Else, or where those absolute lowerdirs would
 * not fit in the page the kernel takes (the relative names fit several times more layers), by the
 * `mount` program run in ROOT.
 */
function kernelOverlayMount(root: string, lowers: string[], dirs: OverlayDirs, readOnly: boolean, options: string): (extra: string) => Promise<unknown> {
  const native = nativeCalls();
  const data = `lowerdir=${lowers.map((l) => join(root, l)).join(':')},upperdir=${dirs.upper},workdir=${dirs.work}`;
  if (native && Buffer.byteLength(data) + ',volatile'.length < MOUNT_DATA_MAX) {
    return (extra) => native.mount('overlay', dirs.merged, 'overlay', readOnly ? MS_RDONLY : 0, data + extra);
  }
  return (extra) => run('mount', ['-t', 'overlay', 'overlay', '-o', options + extra, dirs.merged], { cwd: root });
}

/** The kernel copies at most one page of mount data, its last byte the terminating NUL. */
const MOUNT_DATA_MAX = 4096;

/**
 * The overlay through a FUSE program (fuse-overlayfs, or `BERTH_MOUNT_PROGRAM`, podman's
 * `mount_program`), which takes overlayfs's own options and needs /dev/fuse.
 */
async function mountWithProgram(program: string, root: string, options: string, merged: string, kernelRefused?: string): Promise<void> {
  try {
    await access('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    throw new BerthError(
      'IO',
      `${kernelRefused ? `the kernel refused overlayfs (${kernelRefused}) and ` : ''}${program} cannot open /dev/fuse: it must be readable and writable by you (chmod 0666 /dev/fuse, as Debian ships it)`,
    );
  }
  try {
    await run(program, ['-o', options, merged], { cwd: root });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new BerthError('IO', `mounting the container's root file system with ${program}: ${stderr || (e as Error).message}`, { cause: e });
  }
}

export function unmountOverlay(dirs: OverlayDirs): Promise<void> {
  return unmountAll(dirs.merged);
}
