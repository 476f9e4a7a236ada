import { appendFile, lstat, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciMount } from '../../runtime/spec.js';
import type { ResolvedUser } from '../../runtime/user.js';
import { resolveInRoot } from './rootfs-path.js';

/**
 * Adds podman's entries for a numeric user or group the image does not know to the container's
 * /etc/passwd and /etc/group. Like podman, the line goes into the container's own file (its
 * writable layer); a read-only root gets a copy from the bundle bind mounted over it instead. A
 * file the user mounted, or one the image lacks, is left alone.
 */
export async function addUserEntries(
  rootfs: string,
  bundle: string,
  user: ResolvedUser,
  opts: { readOnly: boolean; mountDestinations: readonly string[] },
): Promise<OciMount[]> {
  const mounts: OciMount[] = [];
  for (const [file, line] of [
    ['passwd', user.passwdLine],
    ['group', user.groupLine],
  ] as const) {
    if (line === undefined) continue;
    const inContainer = `/etc/${file}`;
    if (opts.mountDestinations.includes(inContainer)) continue;
    const host = await resolveInRoot(rootfs, inContainer);
    if (!(await lstat(host).catch(() => undefined))?.isFile()) continue;
    const text = await readFile(host, 'utf8');
    const added = `${text.length > 0 && !text.endsWith('\n') ? '\n' : ''}${line}\n`;
    if (!opts.readOnly) {
      await appendFile(host, added);
      continue;
    }
    const copy = join(bundle, file);
    await writeFile(copy, text + added, { mode: 0o644 });
    mounts.push({ destination: inContainer, type: 'bind', source: copy, options: ['bind', 'rprivate'] });
  }
  return mounts;
}
