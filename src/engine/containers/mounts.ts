import { stat } from 'node:fs/promises';
import type { OciMount } from '../../runtime/spec.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { copyUpVolume, markCopiedUp, volumeDataDir } from '../volumes/volumes.js';
import type { ContainerPaths } from './paths.js';
import { resolveInRoot } from './rootfs-path.js';

/** Bind mounts are recursive and private unless the user asked for another propagation. */
function bindOptions(options: string[]): string[] {
  const out = options.includes('bind') ? [...options] : ['rbind', ...options];
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
    } else {
      // podman's default: the tmpfs starts with what the image (or `cp` into a stopped container) put under it.
      const copyUp = m.options.includes('notmpcopyup') ? [] : ['tmpcopyup'];
      mounts.push({ destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: [...m.options.filter((o) => o !== 'notmpcopyup'), ...copyUp] });
    }
  }
  await markCopiedUp(store, copied);
  return mounts;
}
