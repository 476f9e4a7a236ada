import { removeContainer } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import {
  createVolume,
  findVolume,
  inspectVolume,
  pruneVolumes,
  removeVolumes,
  type VolumeRecord,
  volumeFilters,
  volumeUsers,
} from '../../engine/volumes/index.js';
import { BerthError } from '../../util/errors.js';
import { parseKeyValues } from '../../util/key-values.js';
import { ask, assertCanAsk } from '../confirm.js';
import { engineOptions, removalError, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';

/** --label and --opt: an empty key is refused, as podman refuses it. */
function keyValues(list: string[]): Record<string, string> {
  const empty = list.find((item) => item.startsWith('='));
  if (empty !== undefined) throw new BerthError('USAGE', `invalid "${empty}": the key is empty`);
  return parseKeyValues(list);
}

/** `berth volume create [NAME]`: prints the name, as podman does. */
export async function runCreate(
  g: GlobalOptions,
  name: string | undefined,
  f: { label: string[]; opt: string[]; driver?: string; ignore?: boolean },
): Promise<void> {
  if (f.driver && f.driver !== 'local') throw new BerthError('USAGE', `volume driver "${f.driver}" is not supported: only local`);
  await withStore(engineOptions(g), async (store) => {
    const v = await createVolume(store, name, { labels: keyValues(f.label), options: keyValues(f.opt), ...(f.ignore ? { ignoreIfExists: true } : {}) });
    process.stdout.write(`${v.name}\n`);
  });
}

export async function runList(g: GlobalOptions, f: { quiet?: boolean; format?: string; filter: string[]; noheading?: boolean }): Promise<void> {
  const filters = volumeFilters(f.filter);
  await withStore(engineOptions(g), async (store) => {
    const containers = await store.containers();
    const volumes = (await store.volumes()).filter((v) => filters.every((fn) => fn(v, volumeUsers(containers, v.name).length > 0)));
    if (f.quiet) {
      process.stdout.write(volumes.map((v) => `${v.name}\n`).join(''));
      return;
    }
    const rows = volumes.map((v) => inspectVolume(store, v, containers));
    process.stdout.write(
      formatOutput(f.format, rows, {
        defaultTable: 'table {{.Driver}}\t{{.Name}}',
        headers: { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', CreatedAt: 'CREATED AT' },
        ...(f.noheading ? { noHeading: true } : {}),
        name: 'volume ls',
      }),
    );
  });
}

export async function runInspect(g: GlobalOptions, names: string[], f: { all?: boolean; format?: string }): Promise<void> {
  if (!f.all && names.length === 0) throw new BerthError('USAGE', 'provide one or more volume names or use --all');
  await withStore(engineOptions(g), async (store) => {
    const [volumes, containers] = await Promise.all([store.volumes(), store.containers()]);
    const targets = f.all ? volumes : names.map((n) => findVolume(volumes, n) ?? n);
    const missing = targets.filter((t): t is string => typeof t === 'string');
    const found = targets.filter((t): t is VolumeRecord => typeof t !== 'string').map((v) => inspectVolume(store, v, containers));
    if (!f.format || f.format === 'json') process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    else process.stdout.write(formatOutput(f.format, found, { defaultTable: '', headers: {}, name: 'volume inspect' }));
    if (missing.length > 0) throw new BerthError('VOLUME_UNKNOWN', missing.map((m) => `no such volume ${m}`).join('\n'));
  });
}

export async function runRemove(g: GlobalOptions, names: string[], f: { all?: boolean; force?: boolean; time?: string }): Promise<void> {
  if (!f.all && names.length === 0) throw new BerthError('USAGE', 'provide one or more volume names or use --all');
  const timeout = f.time === undefined ? undefined : Number(f.time);
  await withStore(engineOptions(g), async (store) => {
    const volumes = await store.volumes();
    // --force passes over names that are not there, as podman's does.
    const targets = f.all ? volumes.map((v) => v.name) : f.force ? names.filter((n) => findVolume(volumes, n)) : names;
    const removed = await removeVolumes(store, targets, {
      force: f.force ?? false,
      removeContainer: async (id) => {
        await removeContainer(store, id, { force: true, ...(timeout !== undefined ? { timeout } : {}) });
      },
    }).catch((e: unknown) => {
      throw removalError([e]);
    });
    process.stdout.write(removed.map((n) => `${n}\n`).join(''));
  });
}

/** podman's warning; the volumes that will go follow it, one a line. */
const PRUNE_WARNING = 'WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:';

/**
 * `volume prune`: every volume no container uses. Asked, it lists them first (podman's prompt) and
 * then removes only those it listed, so a volume made while the question was open is not taken.
 */
export async function runPrune(g: GlobalOptions, f: { filter: string[]; force?: boolean }): Promise<void> {
  const filters = volumeFilters(f.filter);
  const wanted = (v: VolumeRecord) => filters.every((fn) => fn(v, false));
  if (!f.force) assertCanAsk('volume prune');
  await withStore(engineOptions(g), async (store) => {
    let listed: Set<string> | undefined;
    if (!f.force) {
      const containers = await store.containers();
      const names = (await store.volumes()).filter((v) => wanted(v) && volumeUsers(containers, v.name).length === 0).map((v) => v.name);
      if (names.length === 0) {
        process.stdout.write(`${PRUNE_WARNING}\nNo dangling volumes found\n`);
        return;
      }
      if (!(await ask(`${PRUNE_WARNING}\n${names.join('\n')}`))) return;
      listed = new Set(names);
    }
    const removed = await pruneVolumes(store, (v) => wanted(v) && (listed === undefined || listed.has(v.name)));
    process.stdout.write(removed.map((n) => `${n}\n`).join(''));
  });
}

export async function runExists(g: GlobalOptions, name: string): Promise<number> {
  return withStore(engineOptions(g), async (store) => ((await store.volumes()).some((v) => v.name === name) ? 0 : 1));
}
