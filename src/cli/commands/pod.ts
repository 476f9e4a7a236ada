import { readFile } from 'node:fs/promises';
import { containerTop, DEFAULT_TOP_DESCRIPTORS, parseSignal } from '../../engine/containers/index.js';
import { type Store, withStore } from '../../engine/index.js';
import { useSelfAsExitCommand } from './_self.js';
import {
  inspectPod,
  killPod,
  listPodRecords,
  pausePod,
  podExists,
  podNetworks,
  podViews,
  POD_CGROUP_PARENT,
  prunePods,
  removePod,
  requirePod,
  restartPod,
  startPod,
  stopPod,
  unpausePod,
  type PodRecord,
  type PodView,
} from '../../engine/pods/index.js';
import { BerthError } from '../../util/errors.js';
import { nameFilterRegExp } from '../../util/name-filter.js';
import { confirm } from '../confirm.js';
import { engineOptions, removalError, type GlobalOptions } from '../context.js';
import { log } from '../log.js';
import { formatOutput } from '../output/format.js';
import { createdAgo, goTime } from '../output/units.js';
import { compareStrings } from '../../util/compare.js';

const warn = (message: string) => log('warn', message);

// `pod create` is its own chunk (commands/pod-create.ts): it loads only what a create needs.

const POD_STATUSES = new Set(['created', 'running', 'stopped', 'paused', 'exited', 'dead', 'degraded', 'error']);

/** podman's pod filters: one key's values ORed, different keys ANDed; labels must all match. */
function podFilter(filters: readonly string[]): (v: PodView) => boolean {
  const tests = filters.map((filter) => {
    const eq = filter.indexOf('=');
    if (eq <= 0) throw new BerthError('USAGE', `invalid filter "${filter}": expected KEY=VALUE`);
    const key = filter.slice(0, eq);
    const value = filter.slice(eq + 1);
    switch (key) {
      case 'name': {
        const re = nameFilterRegExp(value);
        return { key, test: (v: PodView) => re.test(v.pod.name) };
      }
      case 'id':
        return { key, test: (v: PodView) => v.pod.id.startsWith(value) };
      case 'label': {
        const i = value.indexOf('=');
        const [k, want] = i === -1 ? [value, undefined] : [value.slice(0, i), value.slice(i + 1)];
        return { key, test: (v: PodView) => k in v.pod.labels && (want === undefined || v.pod.labels[k] === want) };
      }
      case 'status':
        if (!POD_STATUSES.has(value)) throw new BerthError('USAGE', `${value} is not a valid status`);
        return { key, test: (v: PodView) => v.state.toLowerCase() === value };
      case 'ctr-names':
        return { key, test: (v: PodView) => v.containers.some((c) => c.name === value) };
      case 'ctr-ids':
        return { key, test: (v: PodView) => v.containers.some((c) => c.id.startsWith(value)) };
      case 'ctr-number':
        return { key, test: (v: PodView) => v.containers.length === Number(value) };
      case 'network':
        return { key, test: (v: PodView) => podNetworks(v.containers.find((c) => c.config.pod?.infra)).includes(value) };
      default:
        throw new BerthError('USAGE', `invalid filter "${key}": supported are name, id, label, status, ctr-names, ctr-ids, ctr-number, network`);
    }
  });
  const keys = [...new Set(tests.map((t) => t.key))];
  return (v) =>
    keys.every((key) => {
      const group = tests.filter((t) => t.key === key);
      return key === 'label' ? group.every((t) => t.test(v)) : group.some((t) => t.test(v));
    });
}

/** podman's `pod ps --format json` element. */
function podJson(v: PodView): object {
  const infra = v.containers.find((c) => c.config.pod?.infra);
  return {
    Cgroup: v.pod.cgroupPath ? POD_CGROUP_PARENT : '',
    Containers: v.containers.map((c) => ({ Id: c.id, Names: c.name, Status: c.state.status })),
    Created: v.pod.created,
    Id: v.pod.id,
    InfraId: infra?.id ?? '',
    Name: v.pod.name,
    Namespace: '',
    Networks: podNetworks(infra),
    Status: v.state,
    Labels: v.pod.labels,
  };
}

export async function runList(
  g: GlobalOptions,
  f: {
    filter: string[];
    format?: string;
    ctrNames?: boolean;
    ctrIds?: boolean;
    ctrStatus?: boolean;
    quiet?: boolean;
    trunc: boolean;
    noheading?: boolean;
  },
): Promise<void> {
  const keep = podFilter(f.filter);
  await withStore(engineOptions(g), async (store) => {
    const views = (await podViews(store, await listPodRecords(store))).filter(keep).sort((a, b) => compareStrings(b.pod.created, a.pod.created));
    const id = (s: string) => (f.trunc ? s.slice(0, 12) : s);
    if (f.quiet) {
      process.stdout.write(views.map((v) => `${id(v.pod.id)}\n`).join(''));
      return;
    }
    const now = Date.now();
    const rows = views.map((v) => {
      const infra = v.containers.find((c) => c.config.pod?.infra);
      const row = {
        ID: id(v.pod.id),
        Name: v.pod.name,
        Status: v.state,
        Created: createdAgo(v.pod.created, now),
        CreatedAt: goTime(v.pod.created),
        InfraID: infra ? id(infra.id) : '',
        NumberOfContainers: v.containers.length,
        ContainerIds: v.containers.map((c) => id(c.id)).join(','),
        ContainerNames: v.containers.map((c) => c.name).join(','),
        ContainerStatuses: v.containers.map((c) => c.state.status).join(','),
        Labels: v.pod.labels,
        Networks: podNetworks(infra).join(','),
        Cgroup: v.pod.cgroupPath ? POD_CGROUP_PARENT : '',
      };
      Object.defineProperty(row, 'Label', { value: (key: string) => v.pod.labels[key] ?? '', enumerable: false });
      return row;
    });
    const ctrColumns = [f.ctrIds ? '{{.ContainerIds}}' : '', f.ctrNames ? '{{.ContainerNames}}' : '', f.ctrStatus ? '{{.ContainerStatuses}}' : ''].filter(
      Boolean,
    );
    process.stdout.write(
      formatOutput(f.format, rows, {
        defaultTable: `table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t${ctrColumns.length ? ctrColumns.join('\t') : '{{.NumberOfContainers}}'}`,
        headers: {
          ID: 'POD ID',
          Name: 'NAME',
          Status: 'STATUS',
          Created: 'CREATED',
          CreatedAt: 'CREATED AT',
          InfraID: 'INFRA ID',
          NumberOfContainers: '# OF CONTAINERS',
          ContainerIds: 'IDS',
          ContainerNames: 'NAMES',
          ContainerStatuses: 'STATUS',
          Labels: 'LABELS',
          Networks: 'NETWORKS',
          Cgroup: 'CGROUP',
        },
        json: () => views.map(podJson),
        ...(f.noheading ? { noHeading: true } : {}),
        name: 'pod ps',
      }),
    );
  });
}

export async function runInspect(g: GlobalOptions, names: string[], f: { format?: string }): Promise<number> {
  return withStore(engineOptions(g), async (store) => {
    const pods: PodRecord[] = [];
    const errors: unknown[] = [];
    for (const n of names) {
      try {
        pods.push(await requirePod(store, n));
      } catch (e) {
        errors.push(e);
      }
    }
    const out = (await podViews(store, pods)).map(inspectPod);
    if (f.format === undefined || f.format === '' || f.format === 'json') {
      // podman prints one pod as an object, several as an array.
      if (out.length) process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 4)}\n`);
    } else {
      process.stdout.write(formatOutput(f.format, out, { defaultTable: '', headers: {}, name: 'pod inspect' }));
    }
    if (errors.length) throw errors.at(-1);
    return 0;
  });
}

export async function runExists(g: GlobalOptions, name: string): Promise<number> {
  return withStore(engineOptions(g), async (store) => ((await podExists(store, name)) ? 0 : 1));
}

/**
 * The pods named in `--pod-id-file`s, as podman reads them (one ID, surrounding space trimmed);
 * with `ignore` (`pod rm -i`) a file that is not there names none.
 */
async function podIdsFromFiles(files: readonly string[], ignore = false): Promise<string[]> {
  const ids: string[] = [];
  for (const file of files) {
    try {
      ids.push((await readFile(file, 'utf8')).trim());
    } catch (e) {
      if (ignore && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new BerthError(
        'USAGE',
        `reading pod ID file: open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`,
      );
    }
  }
  return ids;
}

/** The pods a verb acts on: those named (by argument or `--pod-id-file`), or every one with `-a`. */
async function targets(store: Store, names: string[], all?: boolean): Promise<string[]> {
  if (all && names.length) throw new BerthError('USAGE', '--all and pod names cannot be used together');
  if (!all && !names.length) throw new BerthError('USAGE', 'you must provide at least one pod name or id');
  return all ? (await listPodRecords(store)).map((p) => p.id) : names;
}

/** Each pod in turn, its ID printed when done; errors after (the last one is the exit's). */
async function eachPod(g: GlobalOptions, names: string[], all: boolean | undefined, op: (store: Store, pod: string) => Promise<PodRecord>): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const errors: unknown[] = [];
    for (const name of await targets(store, names, all)) {
      try {
        const pod = await op(store, name);
        if (pod.id) process.stdout.write(`${pod.id}\n`);
      } catch (e) {
        errors.push(e);
        if (names.length > 1 || all) log('error', (e as Error).message);
      }
    }
    if (errors.length) throw names.length > 1 || all ? removalError(errors) : errors[0];
  });
}

function seconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new BerthError('USAGE', `invalid argument "${v}" for "-t, --time" flag: must be a whole number of seconds`);
  return n;
}

// The pods' containers started here are cleaned up by a call back to this same berth (not the one on PATH).
export const runStart = async (g: GlobalOptions, names: string[], f: { all?: boolean; podIdFile?: string[] }) => {
  useSelfAsExitCommand();
  return eachPod(g, [...names, ...(await podIdsFromFiles(f.podIdFile ?? []))], f.all, (s, p) => startPod(s, p, warn));
};
export const runStop = async (g: GlobalOptions, names: string[], f: { all?: boolean; time?: string; podIdFile?: string[] }) => {
  const timeout = seconds(f.time);
  const pods = [...names, ...(await podIdsFromFiles(f.podIdFile ?? []))];
  return eachPod(g, pods, f.all, (s, p) => stopPod(s, p, { ...(timeout !== undefined ? { timeout } : {}), warn }));
};
export const runRestart = (g: GlobalOptions, names: string[], f: { all?: boolean; time?: string }) => {
  useSelfAsExitCommand();
  const timeout = seconds(f.time);
  return eachPod(g, names, f.all, (s, p) => restartPod(s, p, { ...(timeout !== undefined ? { timeout } : {}), warn }));
};
export const runKill = (g: GlobalOptions, names: string[], f: { all?: boolean; signal: string }) => {
  // The signal is checked before any pod is looked up, as podman does: `-s 0 nosuchpod` names the signal.
  const signal = String(parseSignal(f.signal));
  return eachPod(g, names, f.all, (s, p) => killPod(s, p, signal));
};
export const runPause = (g: GlobalOptions, names: string[], f: { all?: boolean }) => eachPod(g, names, f.all, pausePod);
export const runUnpause = (g: GlobalOptions, names: string[], f: { all?: boolean }) => eachPod(g, names, f.all, unpausePod);

export async function runRemove(
  g: GlobalOptions,
  names: string[],
  f: { all?: boolean; force?: boolean; ignore?: boolean; time?: string; podIdFile?: string[] },
): Promise<void> {
  const timeout = seconds(f.time);
  const fromFiles = await podIdsFromFiles(f.podIdFile ?? [], f.ignore === true);
  // `-i` with every file gone: nothing to remove, as podman's.
  if (!names.length && f.podIdFile?.length && !fromFiles.length) return;
  await eachPod(g, [...names, ...fromFiles], f.all, async (s, p) => {
    try {
      return await removePod(s, p, { force: f.force === true, ...(timeout !== undefined ? { timeout } : {}), warn });
    } catch (e) {
      if (!(e instanceof BerthError && e.code === 'POD_UNKNOWN')) throw e;
      // Nothing printed for a pod that is not there, with -i or -f, as podman's (rm -f of a container too).
      if (f.ignore || f.force) return { id: '' } as PodRecord;
      // podman's exit code for a pod that is not there, as rm's for a container.
      throw new BerthError(e.code, e.message, { exitCode: 1 });
    }
  });
}

export async function runPrune(g: GlobalOptions, f: { force?: boolean }): Promise<void> {
  if (
    !(await confirm('pod prune', 'WARNING! This will remove all stopped/exited pods..\nAre you sure you want to continue? [y/N] ', { force: f.force === true }))
  )
    return;
  await withStore(engineOptions(g), async (store) => {
    for (const pod of await prunePods(store)) process.stdout.write(`${pod.id}\n`);
  });
}

/** `pod top`: the processes of each running container of the pod, under one header. */
export async function runTop(g: GlobalOptions, name: string, descriptors: string[]): Promise<void> {
  const wanted = descriptors.length ? descriptors.flatMap((d) => d.split(',')) : DEFAULT_TOP_DESCRIPTORS;
  await withStore(engineOptions(g), async (store) => {
    const [v] = await podViews(store, [await requirePod(store, name)]);
    const running = v!.containers.filter((c) => c.state.status === 'running');
    if (!running.length) throw new BerthError('CONTAINER_STATE', `pod ${v!.pod.id} is not running: no containers in pod are running: container state improper`);
    const tables = await Promise.all(running.map((c) => containerTop(store, c.id, wanted)));
    const rows = [tables[0]!.titles, ...tables.flatMap((t) => t.processes)];
    const widths = wanted.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 4))).join('')).join('\n') + '\n');
  });
}

/** The containers of the named pods (or all), for the container commands that do the rest. */
async function podContainers(g: GlobalOptions, names: string[], all?: boolean, only?: string): Promise<string[]> {
  return withStore(engineOptions(g), async (store) => {
    const pods = all ? await listPodRecords(store) : await Promise.all(names.map((n) => requirePod(store, n)));
    const views = await podViews(store, pods);
    const ids = views.flatMap((v) => v.containers.filter((c) => only === undefined || c.name === only || c.id.startsWith(only)).map((c) => c.id));
    if (only !== undefined && !ids.length)
      throw new BerthError('CONTAINER_UNKNOWN', `no container with name or ID "${only}" found in the pod: no such container`);
    return ids;
  });
}

/** `pod stats`: the container stats of the pods' containers. */
export async function runStats(g: GlobalOptions, names: string[], f: { all?: boolean; stream: boolean; format?: string }): Promise<void> {
  if (!f.all && !names.length) throw new BerthError('USAGE', 'you must provide at least one pod name or id, or --all');
  const ids = await podContainers(g, names, f.all);
  if (!ids.length) return;
  const { run } = await import('./stats.js');
  await run(g, ids, { stream: f.stream, reset: true, trunc: true, ...(f.format !== undefined ? { format: f.format } : {}) });
}

/** `pod logs`: the logs of the pod's containers (the infra's is empty), or of `-c` alone. */
export async function runLogs(
  g: GlobalOptions,
  name: string,
  f: { container?: string; follow?: boolean; tail?: string; timestamps?: boolean; names?: boolean },
): Promise<void> {
  const ids = await podContainers(g, [name], false, f.container);
  const { run } = await import('./logs.js');
  const { container: _, ...flags } = f;
  await run(g, ids, { ...flags, names: f.names ?? ids.length > 1 });
}
