import { existsSync } from 'node:fs';
import { randomBytes } from '../../util/crypto.js';
import { trace } from '../../util/trace.js';
import { BerthError } from '../../util/errors.js';
import { parseKeyValues } from '../../util/key-values.js';
import type { Store } from '../../store/store.js';
// Other nouns' modules directly, as engine/networks does: a face imported inside the engine is loaded whole by the bundle.
import { createContainer, type CreateOptions } from '../containers/create.js';
import { generateName as generateContainerName, validateName as validateContainerName } from '../containers/names.js';
import { podEvent } from '../system/events.js';
import { parseExitPolicy } from './exit-policy.js';
import { createPodCgroup, parsePodResources, podCgroupPath, removePodCgroup, type PodResourceFlags } from './cgroup.js';
import { findPod, listPodRecords, updatePods, type PodRecord, type SharedNamespace } from './records.js';

/** `pod create`'s flags, as podman names them. */
export interface PodCreateOptions {
  name?: string;
  publish?: string[];
  network?: string[];
  /** `--share`: podman's default is net, ipc and uts. */
  share?: string;
  /** `--infra=false`: no infra container, nothing shared. */
  infra?: boolean;
  /** Replaces `catatonit -P` as the infra's command. */
  infraCommand?: string[];
  infraName?: string;
  hostname?: string;
  addHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  labels?: string[];
  userns?: string;
  createCommand?: string[];
  /** The pod's limits, on its cgroup (`--cpus`, `--memory`, `--cpu-shares`, `--cpuset-cpus`). */
  resources?: PodResourceFlags;
  /** `--exit-policy`: `continue` (the default) or `stop` when the last container exits. */
  exitPolicy?: string;
  warn?: (message: string) => void;
}

const SHAREABLE: readonly SharedNamespace[] = ['net', 'ipc', 'uts', 'pid'];
const DEFAULT_SHARE: SharedNamespace[] = ['net', 'ipc', 'uts'];

/** `--share net,ipc` (or `+pid`: the defaults and pid), checked against the namespaces berth can share. */
export function parseShare(value: string | undefined): SharedNamespace[] {
  if (value === undefined) return DEFAULT_SHARE;
  const extend = value.startsWith('+');
  const words = (extend ? value.slice(1) : value).split(',').filter((w) => w !== '');
  if (words.length === 1 && words[0] === 'none') return [];
  for (const w of words) {
    if (w === 'cgroup' || w === 'user') throw new BerthError('USAGE', `--share ${w} is not supported: berth's pods share the net, ipc, uts and pid namespaces`);
    if (!SHAREABLE.includes(w as SharedNamespace))
      throw new BerthError('USAGE', `invalid kernel namespace to share: ${w}. Options are: cgroup, ipc, net, pid, uts or none`);
  }
  const wanted = new Set([...(extend ? DEFAULT_SHARE : []), ...(words as SharedNamespace[])]);
  return SHAREABLE.filter((ns) => wanted.has(ns));
}

/** The pause process the infra runs: podman's catatonit, from the host's package. */
export function catatonitPath(): string {
  const found = ['/usr/libexec/podman/catatonit', '/usr/bin/catatonit', '/usr/local/bin/catatonit'].find((p) => existsSync(p));
  if (!found) throw new BerthError('USAGE', "a pod's infra container runs catatonit: install it (apt install catatonit), or use --infra=false");
  return found;
}

/**
 * Creates a pod: its record (the name reserved under the store lock) and, unless `--infra=false`,
 * its infra container, which holds the shared namespaces and publishes the pod's ports. The infra
 * has no image: an empty root with the host's catatonit bind-mounted read-only, as podman builds
 * its pause container when no infra image is given. A failure after the record removes both.
 */
export async function createPod(store: Store, opts: PodCreateOptions): Promise<PodRecord> {
  const infra = opts.infra !== false;
  const share = infra ? parseShare(opts.share) : [];
  if (!infra) {
    const infraOnly: [unknown, string][] = [
      [opts.publish?.length, '-p'],
      [opts.network?.length, '--network'],
      [opts.infraCommand?.length, '--infra-command'],
      [opts.share, '--share'],
      [opts.dns?.length, '--dns'],
      [opts.addHosts?.length, '--add-host'],
    ];
    for (const [v, flag] of infraOnly)
      if (v) throw new BerthError('USAGE', `cannot set ${flag} without an infra container: ${flag} is set on the infra container`);
  }
  if (opts.userns !== undefined && opts.userns !== '' && opts.userns !== 'host')
    throw new BerthError('USAGE', `--userns ${opts.userns} is not supported for pods: a pod's containers run in berth's own user namespace (host)`);
  const name = opts.name === undefined || opts.name === '' ? undefined : validateContainerName(opts.name);
  const init = infra && !opts.infraCommand?.length ? catatonitPath() : undefined;
  const resources = parsePodResources(opts.resources ?? {});
  const exitPolicy = parseExitPolicy(opts.exitPolicy);
  const id = randomBytes(32).toString('hex');
  // Chosen now, so that the pod's record is written once, naming it.
  const infraId = infra ? randomBytes(32).toString('hex') : undefined;
  const cgroupPath = podCgroupPath(id);
  trace('pod create: begin');
  const pod = await updatePods(store, (pods) => {
    if (name && pods.some((p) => p.name === name)) throw new BerthError('POD_EXISTS', `${name}: pod already exists`);
    const record: PodRecord = {
      id,
      name: name ?? generateContainerName(new Set(pods.map((p) => p.name))),
      created: new Date().toISOString(),
      labels: parseKeyValues(opts.labels ?? []),
      hostname: opts.hostname ?? '',
      share,
      createCommand: opts.createCommand ?? [],
      ...(infraId ? { infraId } : {}),
      ...(cgroupPath ? { cgroupPath } : {}),
      ...(Object.keys(resources).length ? { resources } : {}),
      ...(exitPolicy === 'stop' ? { exitPolicy } : {}),
    };
    pods.push(record);
    return record;
  });
  try {
    // Before any container: the limits hold from the first process of the pod on.
    if (cgroupPath) await createPodCgroup(cgroupPath, resources);
    if (!infra) {
      await podEvent(store, 'create', pod);
      return pod;
    }
    const infraOpts: CreateOptions = {
      image: '',
      name: opts.infraName ?? `${id.slice(0, 12)}-infra`,
      infraInit: init ?? catatonitPath(),
      ...(opts.infraCommand?.length ? { entrypoint: JSON.stringify(opts.infraCommand) } : {}),
      hostname: pod.hostname || pod.name,
      ...(opts.publish?.length ? { publish: opts.publish } : {}),
      ...(opts.network?.length ? { network: opts.network } : {}),
      addHosts: opts.addHosts ?? [],
      dns: opts.dns ?? [],
      dnsSearch: opts.dnsSearch ?? [],
      dnsOptions: opts.dnsOptions ?? [],
      createCommand: opts.createCommand ?? [],
      podMembership: { id, infra: true, ...(cgroupPath ? { cgroupParent: cgroupPath } : {}) },
      presetId: infraId!,
      ...(opts.warn ? { warn: opts.warn } : {}),
    };
    trace('pod create: record written');
    await createContainer(store, infraOpts);
    trace('pod create: infra created');
    await podEvent(store, 'create', pod);
    return pod;
  } catch (e) {
    if (cgroupPath) await removePodCgroup(cgroupPath).catch(() => undefined);
    await dropPodRecord(store, id);
    throw e;
  }
}

/** The record goes; its containers are the caller's to remove first. The record removed, if it was there. */
export async function dropPodRecord(store: Store, id: string): Promise<PodRecord | undefined> {
  return updatePods(store, (pods) => {
    const i = pods.findIndex((p) => p.id === id);
    return i === -1 ? undefined : pods.splice(i, 1)[0];
  });
}

/**
 * A pod is gone (its containers removed): its record, its cgroup and podman's `remove` event. The
 * cgroup a container still holds stays (traced): its removal never fails the caller.
 */
export async function forgetPod(store: Store, id: string, known?: PodRecord): Promise<PodRecord | undefined> {
  // The cgroup's path is known from the record read before: its removal (slow on cgroup v1) overlaps the record's.
  const cgroupGone = removeCgroupAt(known?.cgroupPath);
  const pod = await dropPodRecord(store, id);
  if (pod && !known) await removeCgroupAt(pod.cgroupPath);
  await cgroupGone;
  if (pod) await podEvent(store, 'remove', pod);
  return pod;
}

/**
 * A member removed on its own (`rm -a`, `system reset`: every container goes, the infra maybe
 * first): once its pod is gone, the pod's cgroup goes with the last of its containers.
 */
export async function podMemberRemoved(store: Store, membership: { id: string; cgroupParent?: string }): Promise<void> {
  if (!membership.cgroupParent || findPod(await listPodRecords(store), membership.id)) return;
  await removeCgroupAt(membership.cgroupParent);
}

async function removeCgroupAt(path: string | undefined): Promise<void> {
  if (!path) return;
  await removePodCgroup(path).then(
    () => trace('pod rm: cgroup removed'),
    (e: unknown) => trace(`pod rm: cgroup ${path} left for now: ${(e as Error).message}`),
  );
}

/** `pod exists`. */
export async function podExists(store: Store, nameOrId: string): Promise<boolean> {
  return findPod(await listPodRecords(store), nameOrId) !== undefined;
}
