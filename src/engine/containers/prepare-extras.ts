import { parseGroup } from '../../runtime/user.js';
import type { OciMount, SpecInput } from '../../runtime/spec.js';
import type { ContainerRecord } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';
import { timezoneFile } from './create-extras.js';

/**
 * What the newer `run`/`create` flags add to config.json at start: the kernel settings and
 * devices as recorded, --group-add's groups (names looked up in the container's /etc/group),
 * and --tz's /etc/localtime.
 */
export interface SpecExtras extends Pick<SpecInput, 'tuning' | 'devices' | 'readOnlyTmpfs' | 'noHosts'> {
  mounts: OciMount[];
  groups: number[];
}

export async function specExtras(c: ContainerRecord, read: (path: string) => Promise<string>): Promise<SpecExtras> {
  const { tuning, devices, readOnlyTmpfs, noHosts, timezone, groupAdd } = c.config;
  const mounts: OciMount[] = [];
  if (timezone !== undefined) {
    mounts.push({ destination: '/etc/localtime', type: 'bind', source: await timezoneFile(timezone), options: ['bind', 'ro', 'rprivate'] });
  }
  return {
    ...(tuning ? { tuning } : {}),
    ...(devices ? { devices } : {}),
    ...(readOnlyTmpfs === false ? { readOnlyTmpfs } : {}),
    ...(noHosts ? { noHosts } : {}),
    mounts,
    groups: groupAdd?.length ? await groupIds(groupAdd, read) : [],
  };
}

/** `--group-add` names or numbers as GIDs; a name must be in the container's /etc/group. */
export async function groupIds(names: string[], read: (path: string) => Promise<string>): Promise<number[]> {
  let table: ReturnType<typeof parseGroup> | undefined;
  const out: number[] = [];
  for (const name of names) {
    if (/^\d+$/.test(name)) {
      out.push(Number(name));
      continue;
    }
    if (name === 'keep-groups')
      throw new BerthError('USAGE', "--group-add keep-groups is only supported in rootless mode (it keeps the caller's groups through crun)");
    table ??= parseGroup(
      await read('/etc/group')
        .catch(() => '')
        .then((t) =>
          t
            .split('\n')
            .filter((l) => l.trim() !== '' && !l.startsWith('#'))
            .map((l) => l.split(':')),
        ),
    );
    const entry = table.find((g) => g.name === name);
    if (!entry) throw new BerthError('USAGE', `unable to find group ${name}: no matching entries in group file`);
    out.push(entry.gid);
  }
  return out;
}
