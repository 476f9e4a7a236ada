import { containerPaths, type ContainerRecord, formatPortsForPs, publishedPorts, readHealth, syncContainers } from '../../engine/containers/index.js';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Store, withStore } from '../../engine/index.js';
import { listPodRecords } from '../../engine/pods/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';
import { createdAgo, goTime, humanDuration, humanSizeWithPrecision } from '../output/units.js';
import { filterContainers } from '../container-filters.js';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  trunc: boolean;
  noheading?: boolean;
  latest?: boolean;
  last?: string;
  size?: boolean;
  filter: string[];
  format?: string;
  sort?: string;
  pod?: boolean;
}

/** A container's pod, by ID and name ('' for none), from the pods' records. */
type PodOf = (c: ContainerRecord) => { id: string; name: string };

/** podman's STATUS column. */
export function statusText(c: ContainerRecord, now = Date.now(), health?: string): string {
  switch (c.state.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(c.state.startedAt ?? c.created))}${health ? ` (${health})` : ''}`;
    case 'paused':
      // podman 4.3's word for it (docker's "Up 3 minutes (Paused)" is the API's).
      return 'Paused';
    case 'stopping':
      return 'Stopping';
    case 'removing':
      return 'Removing';
    case 'exited':
      return `Exited (${c.state.exitCode}) ${createdAgo(c.state.finishedAt ?? c.created, now)}`;
    default:
      return 'Created';
  }
}

/** podman's ps size: bytes in the writable layer, and in the whole root (image layers and writable layer). */
interface ContainerSize {
  rootFsSize: number;
  rwSize: number;
}

async function containerSize(store: Store, c: ContainerRecord): Promise<ContainerSize> {
  let rwSize = 0;
  const upper = containerPaths(store, c.id).overlay.upper;
  const entries = await readdir(upper, { recursive: true }).catch(() => [] as string[]);
  for (const e of entries) {
    const st = await lstat(join(upper, e)).catch(() => undefined);
    if (st?.isFile()) rwSize += st.size;
  }
  let imageSize = 0;
  for (const chain of c.layers) imageSize += (await store.layers.get(chain))?.size ?? 0;
  return { rootFsSize: imageSize + rwSize, rwSize };
}

/** `0B (virtual 1.99MB)`, as podman's SIZE column; empty without --size. */
function sizeText(size: ContainerSize | undefined): string {
  return size ? `${humanSizeWithPrecision(size.rwSize, 3)} (virtual ${humanSizeWithPrecision(size.rootFsSize, 3)})` : '';
}

/** podman's ps --sort, every key ascending: by created (the default) the oldest comes first. */
function sortContainers(list: ContainerRecord[], by: string, sizes: ReadonlyMap<string, ContainerSize>): ContainerRecord[] {
  const text = (key: (c: ContainerRecord) => string) => (a: ContainerRecord, b: ContainerRecord) => {
    const [x, y] = [key(a), key(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const oldest = (a: ContainerRecord, b: ContainerRecord) => Date.parse(a.created) - Date.parse(b.created);
  const compare: Record<string, (a: ContainerRecord, b: ContainerRecord) => number> = {
    created: oldest,
    runningfor: oldest,
    id: text((c) => c.id),
    image: text((c) => c.imageName),
    names: text((c) => c.name),
    command: text((c) => [...c.config.entrypoint, ...c.config.command].join(' ')),
    status: text((c) => c.state.status),
    size: (a, b) => (sizes.get(a.id)?.rootFsSize ?? 0) - (sizes.get(b.id)?.rootFsSize ?? 0),
  };
  const fn = compare[by];
  if (!fn) throw new BerthError('USAGE', `invalid option for --sort, options are: ${Object.keys(compare).sort().join(', ')}`);
  return [...list].sort(fn);
}

/** Seconds since the epoch, or Go's zero time's (-62135596800) for a time not yet reached. */
function unixTime(iso: string | undefined): number {
  return iso ? Math.floor(Date.parse(iso) / 1000) : -62135596800;
}

/** podman ps --format json's shape. */
function podmanJson(c: ContainerRecord, size: ContainerSize | undefined, podOf: PodOf, health?: string): object {
  const command = [...c.config.entrypoint, ...c.config.command];
  return {
    AutoRemove: c.config.autoRemove,
    Command: command,
    CreatedAt: createdAgo(c.created),
    Exited: c.state.status === 'exited',
    ExitedAt: unixTime(c.state.finishedAt),
    ExitCode: c.state.exitCode,
    Id: c.id,
    Image: c.imageName,
    ImageID: c.image.replace(/^sha256:/, ''),
    IsInfra: c.config.pod?.infra === true,
    Labels: Object.keys(c.config.labels).length ? c.config.labels : null,
    Mounts: [],
    Names: [c.name],
    Namespaces: {},
    Networks: Object.keys(c.config.network.networks ?? {}),
    Pid: c.state.pid,
    Pod: podOf(c).id,
    PodName: podOf(c).name,
    Ports: publishedPorts(c).length ? publishedPorts(c) : null,
    Restarts: c.state.restartCount,
    Size: size ?? null,
    StartedAt: unixTime(c.state.startedAt),
    State: c.state.status,
    Status: statusText(c, Date.now(), health),
    Created: Math.floor(Date.parse(c.created) / 1000),
  };
}

export async function run(g: GlobalOptions, f: PsFlags): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    let list = (await syncContainers(store)).sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
    // Only a status filter reaches past the running containers without --all, as in podman.
    const byStatus = f.filter.some((x) => x.startsWith('status='));
    if (!f.all && !f.latest && !f.last && !byStatus)
      list = list.filter((c) => c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'stopping');
    const pods = list.some((c) => c.config.pod) ? await listPodRecords(store) : [];
    const podOf: PodOf = (c) => {
      const pod = c.config.pod ? pods.find((p) => p.id === c.config.pod!.id) : undefined;
      return { id: pod?.id ?? c.config.pod?.id ?? '', name: pod?.name ?? '' };
    };
    list = filterContainers(list, f.filter, { pods });
    if (f.latest) list = list.slice(0, 1);
    if (f.last !== undefined) list = list.slice(0, Number(f.last));
    if (f.quiet) {
      if (list.length) process.stdout.write(`${list.map((c) => (f.trunc ? c.id.slice(0, 12) : c.id)).join('\n')}\n`);
      return;
    }
    // The healthcheck's last verdict, for the STATUS of running containers that have one.
    const health = new Map(
      await Promise.all(
        list.filter((c) => c.config.healthcheck && c.state.status === 'running').map(async (c) => [c.id, (await readHealth(store, c.id)).Status] as const),
      ),
    );
    const now = Date.now();
    // Sizes cost a walk of each container's writable layer: only with --size, as podman.
    const sizes = new Map<string, ContainerSize>();
    if (f.size) for (const c of list) sizes.set(c.id, await containerSize(store, c));
    list = sortContainers(list, f.sort ?? 'created', sizes);
    const rows = list.map((c) => {
      const command = [...c.config.entrypoint, ...c.config.command].join(' ');
      const row = {
        ID: f.trunc ? c.id.slice(0, 12) : c.id,
        Image: c.imageName,
        ImageID: c.image.replace(/^sha256:/, ''),
        Command: f.trunc && command.length > 17 ? `${command.slice(0, 17)}...` : command,
        CreatedHuman: createdAgo(c.created, now),
        // podman's .Created is the time itself (as .CreatedAt); the CREATED column is .CreatedHuman.
        Created: goTime(c.created),
        CreatedAt: goTime(c.created),
        Status: statusText(c, now, health.get(c.id)),
        State: c.state.status,
        Ports: formatPortsForPs(publishedPorts(c)),
        Names: c.name,
        Labels: c.config.labels,
        Mounts: [] as string[],
        Networks: c.config.network.mode === 'bridge' ? Object.keys(c.config.network.networks ?? {}).join(',') : c.config.network.mode,
        Pid: c.state.pid,
        ExitCode: c.state.exitCode,
        Exited: c.state.status === 'exited',
        AutoRemove: c.config.autoRemove,
        Restarts: c.state.restartCount,
        RunningFor: createdAgo(c.created, now),
        StartedAt: unixTime(c.state.startedAt),
        ExitedAt: unixTime(c.state.finishedAt),
        IsInfra: c.config.pod?.infra === true,
        Pod: f.trunc ? podOf(c).id.slice(0, 12) : podOf(c).id,
        PodName: podOf(c).name,
        Size: sizeText(sizes.get(c.id)),
      };
      // podman's `{{.Label "key"}}`: a method, so not a column of its own.
      Object.defineProperty(row, 'Label', { value: (key: string) => c.config.labels[key] ?? '', enumerable: false });
      return row;
    });
    process.stdout.write(
      formatOutput(f.format, rows, {
        defaultTable: `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${f.size ? '\t{{.Size}}' : ''}${f.pod ? '\t{{.Pod}}\t{{.PodName}}' : ''}`,
        headers: {
          Size: 'SIZE',
          ID: 'CONTAINER ID',
          Image: 'IMAGE',
          Command: 'COMMAND',
          CreatedHuman: 'CREATED',
          Created: 'CREATED',
          Status: 'STATUS',
          Ports: 'PORTS',
          Names: 'NAMES',
          CreatedAt: 'CREATED AT',
          RunningFor: 'CREATED',
          Pod: 'POD ID',
          PodName: 'PODNAME',
        },
        json: () => list.map((c) => podmanJson(c, sizes.get(c.id), podOf, health.get(c.id))),
        ...(f.noheading ? { noHeading: true } : {}),
        name: 'ps',
      }),
    );
  });
}
