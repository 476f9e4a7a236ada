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
