import { chown, mkdir, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ResolvedUser } from '../../runtime/user.js';
import type { ContainerRecord } from '../../store/containers.js';
import { BerthError, errnoCode, ExitCode } from '../../util/errors.js';
import { resolveInRoot } from './rootfs-path.js';

/**
 * The process's working directory, checked or made before start, by podman's rules: one on, under or
 * above a mount is the runtime's business; one that exists must be a directory; a missing one is
 * made when it came from the image's WORKDIR (its last component owned by the user the process
 * runs as), but one the user named with --workdir must exist (exit 126, as podman's run).
 */
export async function prepareWorkdir(rootfs: string, c: ContainerRecord, user: ResolvedUser, mountDestinations: readonly string[]): Promise<void> {
  const dir = c.config.workdir;
  if (dir === '/' || dir === '') return;
  const normal = posix.normalize(dir);
  const under = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
  // On a mount, or the parent of one (which the runtime makes to mount it): podman checks neither.
  if (mountDestinations.some((d) => under(normal, d) || under(d, normal))) return;
  const host = await resolveInRoot(rootfs, dir);
  const st = await stat(host).catch((e: unknown) => {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  });
  if (st) {
    if (!st.isDirectory())
      throw new BerthError('CONTAINER_STATE', `workdir "${dir}" exists on container ${c.id}, but is not a directory`, { exitCode: ExitCode.cannotInvoke });
    return;
  }
  if (c.config.workdirMustExist) {
    throw new BerthError('CONTAINER_STATE', `workdir "${dir}" does not exist on container ${c.id}`, { exitCode: ExitCode.cannotInvoke });
  }
  if (await mkdir(host, { recursive: true, mode: 0o755 })) await chown(host, user.uid, user.gid);
}
