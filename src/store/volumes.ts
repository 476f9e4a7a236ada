import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic.js';
import { errnoCode } from '../util/errors.js';

/** A named volume of the local driver: a directory under the store that outlives containers. */
export interface VolumeRecord {
  name: string;
  created: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** Made for one container's `-v /path` or an image VOLUME; `rm -v` removes it with the container. */
  anonymous: boolean;
  /**
   * Still empty and never mounted: the first container to mount it copies the image's content at
   * the mount point into it, as docker does. Cleared once that happened (or with nocopy).
   */
  needsCopyUp: boolean;
}

interface VolumesFile {
  version: 1;
  volumes: VolumeRecord[];
}

/** volumes.json, rewritten whole and atomically under the store lock, like the image and container records. */
export class VolumeIndexFile {
  constructor(readonly path: string) {}

  async read(): Promise<VolumeRecord[]> {
    try {
      return (JSON.parse(await readFile(this.path, 'utf8')) as VolumesFile).volumes;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /** Caller holds the store lock. */
  async write(volumes: VolumeRecord[]): Promise<void> {
    const file: VolumesFile = { version: 1, volumes };
    await writeFileAtomic(this.path, JSON.stringify(file));
  }
}
