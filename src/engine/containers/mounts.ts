import { lchown, lstat, opendir, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciMount } from '../../runtime/spec.js';
import type { ContainerMount, ContainerRecord } from '../../store/containers.js';
import { mountOverlay, overlayDirs, unmountOverlay } from '../../store/overlay.js';
import type { Store } from '../../store/store.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { copyUpVolume, markCopiedUp, volumeDataDir } from '../volumes/volumes.js';
import type { ContainerPaths } from './paths.js';
import { resolveInRoot } from './rootfs-path.js';

/** Bind mounts are recursive and private unless the user asked for another propagation. */
function bindOptions(options: string[]): string[] {
  // `U` is berth's to carry out (chownMountSources), not the runtime's.
  const kept = options.filter((o) => o !== 'U');
  const out = kept.includes('bind') ? kept : ['rbind', ...kept];
  if (!options.some((o) => /^r?(shared|slave|private|unbindable)$/.test(o))) out.push('rprivate');
  return out;
}

/**
 * The container's mounts besides its root, as OCI runtime mounts: host directories checked, named
 * volumes made if gone and copied up on first use (the rootfs must already be mounted).
 */
export async function resolveContainerMounts(store: Store, c: ContainerRecord, paths: ContainerPaths): Promise<OciMount[]> {
  const specs = c.config.mountSpecs ?? [];
  const volumes = new Map((await store.volumes()).map((v) => [v.name, v]));
  const copied: string[] = [];
  const mounts: OciMount[] = [];
  for (const m of specs) {
    if (m.type === 'bind') {
      try {
        await stat(m.source);
      } catch (e) {
        if (errnoCode(e) === 'ENOENT')
          throw new BerthError('USAGE', `bind mount source ${m.source} (for ${m.destination}) does not exist: no such file or directory`);
        throw e;
      }
      mounts.push({ destination: m.destination, type: 'bind', source: m.source, options: bindOptions(m.options) });
    } else if (m.type === 'volume') {
      const record = volumes.get(m.name);
      if (!record) throw new BerthError('VOLUME_UNKNOWN', `volume ${m.name} (mounted on ${m.destination}) no longer exists: no such volume`);
      if (record.needsCopyUp) {
        if (!m.noCopy) await copyUpVolume(store, m.name, await resolveInRoot(paths.overlay.merged, m.destination));
        copied.push(m.name);
      }
      mounts.push({ destination: m.destination, type: 'bind', source: volumeDataDir(store, m.name), options: bindOptions(m.options) });
    } else if (m.type === 'image') {
      mounts.push({
        destination: m.destination,
        type: 'bind',
        source: await mountImageForContainer(store, m, paths, specs.indexOf(m)),
        options: bindOptions(m.options),
      });
    } else {
      // podman's default: the tmpfs starts with what the image (or `cp` into a stopped container) put under it.
      const copyUp = m.options.includes('notmpcopyup') ? [] : ['tmpcopyup'];
      mounts.push({ destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: [...m.options.filter((o) => o !== 'notmpcopyup'), ...copyUp] });
    }
  }
  await markCopiedUp(store, copied);
  return mounts;
}

/**
 * `-v SRC:DST:U`: the source's files given to the container's user, as podman does at each start,
 * so a rootless container's user (a subordinate UID on the host) can write to a directory of the
 * user's. Links are changed themselves, never followed.
 */
export async function chownMountSources(store: Store, c: ContainerRecord, owner: { uid: number; gid: number }): Promise<void> {
  for (const m of c.config.mountSpecs ?? []) {
    if (m.type === 'tmpfs' || m.type === 'image' || !m.options.includes('U')) continue;
    // The mount follows a link given as the source; so does the change of owner, there only.
    await chownTree(await realpath(m.type === 'bind' ? m.source : volumeDataDir(store, m.name)), owner);
  }
}

async function chownTree(path: string, owner: { uid: number; gid: number }): Promise<void> {
  await lchown(path, owner.uid, owner.gid);
  if (!(await lstat(path)).isDirectory()) return;
  const dir = await opendir(path);
  for await (const entry of dir) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, owner);
    else await lchown(child, owner.uid, owner.gid);
  }
}

/** Where a container's `--mount type=image` mounts are: one overlay each, in its own directory. */
function imageMountsDir(paths: ContainerPaths): string {
  return join(paths.dir, 'image-mounts');
}

/**
 * `--mount type=image`: the image's layers as an overlay of their own under the container's
 * directory, read-only unless `rw=true` (then its writes go to an upper of this container's,
 * which goes with it), bound where the user asked.
 */
async function mountImageForContainer(store: Store, m: Extract<ContainerMount, { type: 'image' }>, paths: ContainerPaths, index: number): Promise<string> {
  const image = (await store.images()).find((i) => i.id === m.imageId);
  if (!image) throw new BerthError('IMAGE_UNKNOWN', `${m.source}: the image mounted on ${m.destination} is no longer in the store: image not known`);
  const dirs = overlayDirs(join(imageMountsDir(paths), String(index)));
  await mountOverlay(
    store.root,
    image.layers.map((l) => store.layers.diffDir(l)),
    dirs,
    { readOnly: !m.readWrite },
  );
  return dirs.merged;
}

/** Unmounts a container's image mounts (none mounted is fine); one without any reads nothing. */
export async function unmountImageMounts(c: ContainerRecord, paths: ContainerPaths): Promise<void> {
  if (!c.config.mountSpecs?.some((m) => m.type === 'image')) return;
  const names = await readdir(imageMountsDir(paths)).catch(() => [] as string[]);
  await Promise.all(names.map((n) => unmountOverlay(overlayDirs(join(imageMountsDir(paths), n)))));
}
