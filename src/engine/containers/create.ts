import { randomBytes } from '../../util/crypto.js';
import { hostname as osHostname } from 'node:os';
import { mkdir, rm } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ContainerConfig } from '../../oci/manifest.js';
import { effectiveCapabilities, parseCapabilities } from '../../runtime/capabilities.js';
import {
  parseCpus,
  parseEnvFlag,
  parseMemory,
  parsePidsLimit,
  parseSecurityOpts,
  parseUlimit,
  parseUserFlag,
  parseWorkdirFlag,
} from '../../runtime/options.js';
import { parseSignal } from '../../runtime/signals.js';
import {
  newContainerState,
  type ContainerPodMembership,
  type ContainerRecord,
  type ContainerSpecConfig,
  type StoredContainer,
} from '../../store/containers.js';
import type { ImageRecord } from '../../store/images.js';
import { findImage, matchedName } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import type { PullOptions } from '../images/pull.js';
import { BerthError } from '../../util/errors.js';
import { parseKeyValues } from '../../util/key-values.js';
import { imageConfig } from '../images/records.js';
import { anonymousVolumeName, ensureVolumes } from '../volumes/volumes.js';
import { containerEvent } from '../system/events.js';
import { healthConfig, type HealthFlags } from './health.js';
import { findContainer } from './lookup.js';
import { parseContainerMounts, type MountSpec } from './mount-spec.js';
import { generateName, validateName } from './names.js';
import { parseNameResolution, validateHostname } from './network.js';
import { checkNetworkFlagSyntax, networkConfig, networkMode, type NetworkFlags } from './network-flags.js';
import { containerPaths } from './paths.js';
import { copySecretsIntoBundle, resolveContainerSecrets } from './secrets.js';
import { parseTuning, type TuningFlags } from '../../runtime/tuning.js';
import type { ContainerTuning, NamespaceJoin } from '../../runtime/tuning-types.js';
import { refuseLimitsWithoutCgroups } from '../../runtime/rootless-cgroups.js';
import { allocateUserNamespace, parseUserNamespace, type UserNamespaceFlags } from './userns.js';
import type { BlkioThrottleKind } from '../../store/container-tuning.js';
import { resolveDevices, resolveThrottles } from '../../runtime/devices.js';
import { findOrPullImage, LOCAL_TRANSPORT } from './create-image.js';
import { logDriverOf, mergeEnv, parseRestartPolicy, processArgs } from './process-config.js';
import { applyEnvMerge, checkCidFile, checkTimezone, readLabelFiles, timezoneFile, volumesFromMounts, withVolumesFrom, writeCidFile } from './create-extras.js';

export interface CreateOptions extends NetworkFlags {
  image: string;
  /** Replaces the image's Cmd. */
  command?: string[];
  /** Replaces the image's Entrypoint (and drops its Cmd unless a command is given): a string or a JSON array. */
  entrypoint?: string;
  name?: string;
  env?: string[];
  envFile?: string[];
  user?: string;
  /** `--userns`, `--uidmap`, `--gidmap`, `--subuidname`, `--subgidname`. */
  userNamespace?: UserNamespaceFlags;
  workdir?: string;
  /** A missing `workdir` is made at start, as the image's WORKDIR is (a build step's); else it must exist. */
  createWorkdir?: boolean;
  tty?: boolean;
  stdin?: boolean;
  hostname?: string;
  /** Docker's `--domainname`: the container's NIS domain name (its UTS namespace's). */
  domainname?: string;
  /** --add-host HOST:IP, --dns, --dns-search, --dns-option. */
  addHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  labels?: string[];
  annotations?: string[];
  autoRemove?: boolean;
  /** `--log-driver`: k8s-file (the default; json-file is its alias, as in podman) or none. */
  logDriver?: string;
  /** A build step's container: its upper is read once, then removed. */
  volatile?: boolean;
  restart?: string;
  runtime?: string;
  volumes?: string[];
  mounts?: string[];
  tmpfs?: string[];
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  readOnly?: boolean;
  init?: boolean;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  ulimits?: string[];
  stopSignal?: string;
  stopTimeout?: number;
  /** Remove a container of the same name first. */
  replace?: boolean;
  /** `--health-*` and `--no-healthcheck`, over the image's HEALTHCHECK. */
  health?: HealthFlags;
  /** missing (default), always, never, newer */
  pull?: string;
  pullOptions?: PullOptions;
  createCommand?: string[];
  /** Called before an image is pulled, with the name (to print podman's lines). */
  onPull?: (name: string) => void;
  /** `--secret NAME[,type=mount|env,target=,mode=,uid=,gid=]`. */
  secrets?: string[];
  /** The newer kernel and cgroup flags (--cpu-shares, --sysctl, --pid host, --umask, ...). */
  tuning?: TuningFlags;
  devices?: string[];
  groupAdd?: string[];
  tz?: string;
  noHosts?: boolean;
  readOnlyTmpfs?: boolean;
  cidFile?: string;
  /** `--pidfile`, `--conmon-pidfile`: absolute paths where each start writes the container's and its monitor's PID. */
  pidFile?: string;
  conmonPidFile?: string;
  /** `--timeout`: seconds the container may run before its monitor kills it. */
  timeoutSeconds?: number;
  initPath?: string;
  /** --env-host, --unsetenv, --unsetenv-all. */
  envHost?: boolean;
  unsetEnv?: string[];
  unsetEnvAll?: boolean;
  labelFiles?: string[];
  /** --env-merge KEY=VALUE: ${VAR} in VALUE from the environment so far. */
  envMerge?: string[];
  /** --volumes-from CONTAINER[:ro|rw]. */
  volumesFrom?: string[];
  /** --device-read-bps DEVICE:RATE and friends, by OCI field. */
  blkioThrottle?: Partial<Record<BlkioThrottleKind, string[]>>;
  /** Where podman's warnings go (ports discarded with --network host…). */
  warn?: (message: string) => void;
  /** --image-volume: the image's VOLUMEs as anonymous volumes (bind, the default), tmpfs, or not at all. */
  imageVolume?: 'bind' | 'tmpfs' | 'ignore';
  /** `--pod NAME|ID` or `--pod new:NAME`: the container joins that pod's namespaces. */
  pod?: string;
  /** Set by the pods noun: the pod this container belongs to (a member or its infra). */
  podMembership?: ContainerPodMembership;
  /** A pod's infra container: no image, an empty root with this host binary bind-mounted read-only as /catatonit. */
  infraInit?: string;
  /** Set by the pods noun for an infra: the ID its pod's record already names, so that record is written once. */
  presetId?: string;
}

/** What an infra container is made from: no image, an empty root (overlay's empty lower). */
const NO_IMAGE: ImageRecord = {
  id: '',
  names: [],
  digests: [],
  manifestDigest: '',
  manifestMediaType: '',
  layers: [],
  layerBlobs: [],
  size: 0,
} as unknown as ImageRecord;

/**
 * The container's mounts: the user's, then an anonymous volume for each of the image's VOLUMEs
 * that the user did not mount over (as docker and podman do).
 */
function containerMounts(opts: CreateOptions, imageVolumes: Record<string, unknown> | null | undefined): MountSpec[] {
  const specs = parseContainerMounts(
    { volumes: opts.volumes ?? [], mounts: opts.mounts ?? [], tmpfs: opts.tmpfs ?? [] },
    { anonymousName: anonymousVolumeName },
  );
  for (const path of opts.imageVolume === 'ignore' ? [] : Object.keys(imageVolumes ?? {})) {
    // As the runtime would resolve it: a VOLUME of `/a/../b` is /b, one of `..` the root itself.
    const destination = posix.resolve('/', path);
    if (destination === '/') throw new BerthError('USAGE', `invalid image volume ${JSON.stringify(path)}: destination can't be '/'`);
    if (specs.some((m) => m.destination === destination)) continue;
    specs.push(
      opts.imageVolume === 'tmpfs'
        ? { type: 'tmpfs', destination, options: ['rw', 'rprivate', 'nosuid', 'nodev'] }
        : { type: 'volume', name: anonymousVolumeName(), anonymous: true, destination, options: [], noCopy: false },
    );
  }
  return specs;
}

/**
 * The flags that reach the container's /etc files and process, checked before anything is pulled
 * or made: a value the runtime would refuse (or, in /etc/hosts, take as extra lines) fails here.
 */
function checkProcessFlags(opts: CreateOptions): void {
  if (opts.hostname) validateHostname(opts.hostname);
  if (opts.domainname) validateHostname(opts.domainname);
  checkNetworkFlagSyntax(opts);
  parseNameResolution(opts, networkMode(opts));
  opts.env?.forEach(parseEnvFlag);
  if (opts.workdir) parseWorkdirFlag(opts.workdir);
  if (opts.user) parseUserFlag(opts.user);
  if (opts.stopSignal !== undefined) parseSignal(opts.stopSignal);
  if (opts.tz !== undefined) checkTimezone(opts.tz);
}

/** The resource limits a create asks for, by podman's flag names: each needs a cgroup. */
function limitFlags(opts: CreateOptions, tuning: ContainerTuning): string[] {
  const flags: [string, unknown][] = [
    ['--memory', opts.memory],
    ['--cpus', opts.cpus],
    ['--pids-limit', opts.pidsLimit],
    ['--cpu-shares', tuning.cpuShares],
    ['--cpu-period', tuning.cpuPeriod],
    ['--cpu-quota', tuning.cpuQuota],
    ['--cpuset-cpus', tuning.cpusetCpus],
    ['--cpuset-mems', tuning.cpusetMems],
    ['--memory-swap', tuning.memorySwap],
    ['--memory-reservation', tuning.memoryReservation],
    ['--memory-swappiness', tuning.memorySwappiness],
    ['--oom-kill-disable', tuning.oomKillDisable || undefined],
    ['--blkio-weight', tuning.blkioWeight],
    ['--device-cgroup-rule', tuning.deviceRules?.length || undefined],
    ['--device-read-bps and the other throttles', Object.keys(tuning.blkioThrottle ?? {}).length || undefined],
  ];
  return flags.filter(([, v]) => v !== undefined).map(([name]) => name);
}

/** `--mount type=image,source=NAME`: the image named, found in the store now (podman does not pull it either). */
async function withMountedImages(store: Store, mounts: MountSpec[]): Promise<MountSpec[]> {
  if (!mounts.some((m) => m.type === 'image' && !m.imageId)) return mounts;
  const images = await store.images();
  return mounts.map((m) => {
    if (m.type !== 'image' || m.imageId) return m;
    const image = findImage(images, m.source);
    if (!image) throw new BerthError('IMAGE_UNKNOWN', `${m.source}: image not known`);
    return { ...m, imageId: image.id };
  });
}

/** `--ipc container:NAME` and the like: the container named, by its ID, as podman keeps it. */
async function namespaceOwners(store: Store, joins: NonNullable<ContainerTuning['joinNamespaces']>): Promise<NonNullable<ContainerTuning['joinNamespaces']>> {
  const records = await store.containerRecords();
  const out: NonNullable<ContainerTuning['joinNamespaces']> = {};
  for (const [ns, join] of Object.entries(joins) as [keyof typeof joins, NamespaceJoin][]) {
    if (!('container' in join)) {
      out[ns] = join;
      continue;
    }
    const owner = findContainer(records, join.container);
    if (!owner) throw new BerthError('CONTAINER_UNKNOWN', `no container with name or ID "${join.container}" found: no such container`);
    out[ns] = { container: owner.id };
  }
  return out;
}

/**
 * Creates a container: its record (name reserved under the store lock, so two creates with one
 * name cannot both win) and its directories. Nothing runs yet and nothing is mounted: that is
 * start's work, so a create killed half way leaves a record that rm can always remove.
 */
export async function createContainer(store: Store, opts: CreateOptions, removeExisting?: (id: string) => Promise<void>): Promise<ContainerRecord> {
  // A pod's member takes the pod's network, hostname and namespaces (the pods noun knows them).
  if (opts.pod !== undefined) {
    const member = await (await import('../pods/join.js')).podMemberOptions(store, opts);
    if (!opts.pod.startsWith('new:')) return createContainer(store, member, removeExisting);
    // `--pod new:NAME`: the pod made for this container goes again if the container cannot be made.
    try {
      return await createContainer(store, member, removeExisting);
    } catch (e) {
      const { removePod } = await import('../pods/lifecycle.js');
      await removePod(store, member.podMembership!.id, { force: true }).catch(() => undefined);
      throw e;
    }
  }
  checkProcessFlags(opts);
  const tuning = parseTuning(opts.tuning ?? {}, { hostNetwork: networkMode(opts) === 'host', ...(opts.memory ? { memory: parseMemory(opts.memory) } : {}) });
  if (tuning.joinNamespaces) tuning.joinNamespaces = await namespaceOwners(store, tuning.joinNamespaces);
  refuseLimitsWithoutCgroups(limitFlags(opts, tuning));
  const userns = parseUserNamespace(opts.userNamespace ?? {});
  if (opts.cidFile !== undefined) await checkCidFile(opts.cidFile);
  if (opts.tz !== undefined) await timezoneFile(opts.tz);
  if (opts.noHosts && opts.addHosts?.length) throw new BerthError('USAGE', '--no-hosts and --add-host cannot be set together');
  const devices = await resolveDevices(opts.devices ?? []);
  const throttles = await resolveThrottles(opts.blkioThrottle ?? {});
  if (Object.keys(throttles).length) tuning.blkioThrottle = throttles;
  const image = opts.infraInit ? NO_IMAGE : await findOrPullImage(store, opts.image, opts);
  const config = opts.infraInit ? ({ Entrypoint: ['/catatonit', '-P'] } as ContainerConfig) : ((await imageConfig(store, image)).config ?? {});
  const { entrypoint, command } = processArgs(config, opts);
  if (entrypoint.length + command.length === 0) {
    throw new BerthError('USAGE', 'no command or entrypoint provided, and no CMD or ENTRYPOINT from image');
  }
  const healthcheck = healthConfig(opts.health ?? {}, config.Healthcheck);
  const id = opts.presetId ?? randomBytes(32).toString('hex');
  const hostUts = tuning.hostNamespaces?.includes('uts') ?? false;
  if (hostUts && opts.hostname)
    throw new BerthError('USAGE', 'invalid config provided: cannot set hostname when running in the host UTS namespace: invalid configuration');
  if (hostUts && opts.domainname)
    throw new BerthError('USAGE', 'invalid config provided: cannot set domainname when running in the host UTS namespace: invalid configuration');
  const hostname = opts.hostname || (hostUts ? osHostname() : id.slice(0, 12));
  const tty = opts.tty ?? false;
  const nameResolution = parseNameResolution(opts, networkMode(opts));
  const network = await networkConfig(store, opts, Object.keys(config.ExposedPorts ?? {}), opts.warn);
  const spec: ContainerSpecConfig = {
    entrypoint,
    command,
    env: applyEnvMerge(
      await mergeEnv(config.Env ?? [], opts.envFile ?? [], opts.env ?? [], {
        tty,
        hostname,
        envHost: opts.envHost,
        unset: opts.unsetEnv,
        unsetAll: opts.unsetEnvAll,
      }),
      opts.envMerge ?? [],
    ),
    user: opts.user ?? (userns?.kind === 'fixed' ? userns.user : undefined) ?? config.User ?? '',
    workdir: opts.workdir || config.WorkingDir || '/',
    ...(opts.workdir && !opts.createWorkdir ? { workdirMustExist: true } : {}),
    tty,
    stdin: opts.stdin ?? false,
    hostname,
    ...(opts.domainname ? { domainname: opts.domainname } : {}),
    labels: { ...(config.Labels ?? {}), ...parseKeyValues([...(await readLabelFiles(opts.labelFiles ?? [])), ...(opts.labels ?? [])]) },
    annotations: parseKeyValues(opts.annotations ?? []),
    stopSignal: opts.stopSignal ?? config.StopSignal ?? 'SIGTERM',
    stopTimeout: opts.stopTimeout ?? 10,
    runtime: opts.runtime ?? 'crun',
    network,
    ...(nameResolution ? { nameResolution } : {}),
    volumes: opts.infraInit ? [`${opts.infraInit}:/catatonit:ro`] : (opts.volumes ?? []),
    mounts: opts.mounts ?? [],
    tmpfs: opts.tmpfs ?? [],
    // --volumes-from's sources from the records (their settings), read only when it is given: a
    // create read every container's state file for it.
    mountSpecs: await withMountedImages(
      store,
      withVolumesFrom(
        containerMounts(opts.infraInit ? { ...opts, volumes: [`${opts.infraInit}:/catatonit:ro`] } : opts, config.Volumes),
        volumesFromMounts(opts.volumesFrom?.length ? await store.containerRecords() : [], opts.volumesFrom ?? []),
      ),
    ),
    privileged: opts.privileged ?? false,
    capAdd: parseCapabilities(opts.capAdd ?? []),
    capDrop: parseCapabilities(opts.capDrop ?? []),
    securityOpt: opts.securityOpt ?? [],
    readOnly: opts.readOnly ?? false,
    init: opts.init ?? false,
    ...(opts.memory !== undefined ? { memory: parseMemory(opts.memory) } : {}),
    ...(opts.cpus !== undefined ? { cpus: parseCpus(opts.cpus) } : {}),
    ...(opts.pidsLimit !== undefined ? { pidsLimit: parsePidsLimit(opts.pidsLimit) } : {}),
    ulimits: opts.ulimits ?? [],
    autoRemove: opts.autoRemove ?? false,
    ...(logDriverOf(opts.logDriver) === 'none' ? { logDriver: 'none' as const } : {}),
    ...(opts.volatile ? { volatile: true } : {}),
    restartPolicy: parseRestartPolicy(opts.restart),
    ...(healthcheck ? { healthcheck } : {}),
    createCommand: opts.createCommand ?? [],
    ...(opts.secrets?.length ? { secrets: await resolveContainerSecrets(store, opts.secrets) } : {}),
    ...(Object.keys(tuning).length ? { tuning } : {}),
    ...(devices.length ? { devices } : {}),
    ...(opts.groupAdd?.length ? { groupAdd: opts.groupAdd.flatMap((g) => g.split(',')) } : {}),
    ...(opts.tz !== undefined ? { timezone: opts.tz } : {}),
    ...(opts.noHosts ? { noHosts: true } : {}),
    ...(opts.readOnlyTmpfs === false ? { readOnlyTmpfs: false } : {}),
    ...(opts.cidFile !== undefined ? { cidFile: opts.cidFile } : {}),
    ...(opts.pidFile !== undefined ? { pidFile: opts.pidFile } : {}),
    ...(opts.conmonPidFile !== undefined ? { conmonPidFile: opts.conmonPidFile } : {}),
    ...(opts.timeoutSeconds ? { timeoutSeconds: opts.timeoutSeconds } : {}),
    ...(opts.initPath !== undefined ? { initPath: opts.initPath } : {}),
    ...(opts.podMembership ? { pod: opts.podMembership } : {}),
  };
  // Fail now, at create, on what start would refuse later.
  parseSecurityOpts(spec.securityOpt);
  spec.ulimits.forEach(parseUlimit);
  effectiveCapabilities(spec);
  if (spec.autoRemove && spec.restartPolicy.name !== 'no') {
    throw new BerthError('USAGE', 'the --rm option conflicts with --restart, when the restartPolicy is not "" and "no"');
  }
  const wanted = opts.name === undefined ? undefined : validateName(opts.name);
  if (wanted && opts.replace && removeExisting) {
    const existing = findContainer(await store.containerRecords(), wanted);
    if (existing && existing.name === wanted) await removeExisting(existing.id);
  }
  const paths = containerPaths(store, id);
  await mkdir(paths.bundle, { recursive: true });
  try {
    // The state file before the record: a record is never without one (but while rm takes its directory).
    const state = newContainerState();
    await Promise.all([
      copySecretsIntoBundle(store, spec.secrets ?? [], paths.bundle),
      store.writeContainerState(id, state, !(spec.volatile || spec.autoRemove)),
    ]);
    const created = await store.updateContainers(async (containers) => {
      const taken = new Set(containers.map((c) => c.name));
      if (wanted && taken.has(wanted)) {
        const holder = containers.find((c) => c.name === wanted)!;
        throw new BerthError(
          'CONTAINER_EXISTS',
          `creating container storage: the container name "${wanted}" is already in use by ${holder.id}. You have to remove that container to be able to reuse that name: that name is already in use`,
        );
      }
      // Under the same lock as the record, so a volume cannot be removed before its user exists.
      await ensureVolumes(
        store,
        spec.mountSpecs.flatMap((m) => (m.type === 'volume' ? [{ name: m.name, anonymous: m.anonymous }] : [])),
      );
      const record: StoredContainer = {
        id,
        name: wanted ?? generateName(taken),
        image: image.id,
        // podman names it by the name it was created from, else the image's first; a container of an
        // unnamed image from an archive by the image's ID.
        imageName: matchedName(image, opts.image) ?? image.names[0] ?? (LOCAL_TRANSPORT.test(opts.image) ? image.id.replace(/^sha256:/, '') : opts.image),
        layers: image.layers,
        created: new Date().toISOString(),
        config: userns ? { ...spec, userNamespace: await allocateUserNamespace(userns, containers) } : spec,
      };
      containers.push(record);
      return { ...record, state } satisfies ContainerRecord;
    });
    await containerEvent(store, created, 'create');
    if (opts.cidFile !== undefined) await writeCidFile(opts.cidFile, created.id);
    return created;
  } catch (e) {
    await rm(paths.dir, { recursive: true, force: true });
    throw e;
  }
}
