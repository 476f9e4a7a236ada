// Volumes as the Docker API shows and takes them: berth's volumes are the local driver's, so a
// request for another driver, or for the local driver's mount options (which berth's volumes do
// not act on), is refused rather than answered with a plain directory.
import type { CreateVolumeOptions, inspectVolume } from '../../engine/index.js';
import { ApiError, badRequest } from '../errors.js';

export interface DockerVolume {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string>;
  Scope: 'local';
}

/** Docker's volume from `berth volume inspect`'s: the same fields less podman's own; the time to the second, as Go's RFC 3339. */
export function dockerVolume(v: ReturnType<typeof inspectVolume>): DockerVolume {
  const created = new Date(v.CreatedAt);
  return {
    CreatedAt: Number.isNaN(created.getTime()) ? v.CreatedAt : created.toISOString().replace(/\.\d+Z$/, 'Z'),
    Driver: 'local',
    Labels: v.Labels,
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Options: v.Options,
    Scope: 'local',
  };
}

/** POST /volumes/create's body. */
export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/**
 * The engine's create arguments. A volume without a name is anonymous, as Docker makes it (API
 * 1.42's prune takes only those); one with a name that exists is returned as it is, as dockerd does.
 */
export function volumeCreateOptions(body: VolumeCreateRequest): { name: string | undefined; options: CreateVolumeOptions } {
  const driver = body.Driver || 'local';
  if (driver !== 'local') throw new ApiError(404, `error looking up volume plugin ${driver}: plugin "${driver}" not found`);
  const opts = Object.keys(body.DriverOpts ?? {});
  if (opts.length) {
    throw badRequest(
      `invalid option: ${opts.map((o) => JSON.stringify(o)).join(', ')}: berth's local volumes are plain directories (no type, device or o mounts)`,
    );
  }
  const name = body.Name ? body.Name : undefined;
  return { name, options: { labels: body.Labels ?? {}, ignoreIfExists: true, ...(name === undefined ? { anonymous: true } : {}) } };
}
