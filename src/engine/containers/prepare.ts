import { isRootless } from '../../util/rootless.js';
import { mountInfraShm, sharedShmDir } from './shm.js';
import { trace } from '../../util/trace.js';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerIdMappings } from '../../runtime/id-mappings.js';
import { hostCapabilities, hostDevices, hostLimits } from '../../runtime/host.js';
import { findExecutable } from '../../runtime/oci-runtime.js';
import { parseSecurityOpts, type SecurityOptions } from '../../runtime/options.js';
import { convertProfile, defaultProfile, loadProfile, type OciSeccomp } from '../../runtime/seccomp.js';
import { compiledSeccomp, SECCOMP_BPF_ANNOTATION, type CompiledSeccomp } from '../../runtime/seccomp-bpf-cache.js';
import type { OciRuntime } from '../../runtime/oci-runtime.js';
import { effectiveCapabilities } from '../../runtime/capabilities.js';
import { buildRuntimeSpec, serializeSpec } from '../../runtime/spec.js';
import { resolveUser, withHome } from '../../runtime/user.js';
import { containerCgroupPath, type ContainerRecord } from '../../store/containers.js';
import { mountOverlay } from '../../store/overlay.js';
import type { Store } from '../../store/store.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { BerthError } from '../../util/errors.js';
import { writeEtcFiles } from './network.js';
import type { NetworkJoin } from './network-setup.js';
import type { ContainerPaths } from './paths.js';
import { chownMountSources, resolveContainerMounts } from './mounts.js';
import { ensureRootReachable, shiftRootOwners } from './userns.js';
import { rootReader } from './rootfs-path.js';
import { namespaceJoinPaths } from './namespace-joins.js';
import { prepareWorkdir } from './workdir.js';
import { addUserEntries } from './etc-user.js';
import { secretMountsAndEnv } from './secrets.js';
import { specExtras } from './prepare-extras.js';

/** Where --init finds its init: podman's catatonit, or tini. */
function initBinary(): string {
  const found = findExecutable('catatonit') ?? findExecutable('tini') ?? findExecutable('tini-static');
  if (!found) throw new BerthError('USAGE', '--init needs catatonit or tini: install one (apt install catatonit)');
  return found;
}

/** The container's seccomp filter: none when privileged or unconfined, else the profile with its capability rules applied. */
async function seccompFor(c: ContainerRecord, security: SecurityOptions, available: readonly string[]): Promise<OciSeccomp | undefined> {
  if (c.config.privileged || security.seccomp === 'unconfined') return undefined;
  const profile = security.seccomp === 'default' ? await defaultProfile() : await loadProfile(security.seccomp);
  return convertProfile(profile, { capabilities: effectiveCapabilities(c.config, available) });
}

/**
 * Everything the runtime needs before `create`: the root file system mounted (image layers shared
 * as overlay lowerdirs, the container's own upperdir on top), volumes and bind mounts resolved,
 * /etc files written, and the bundle's config.json.
 */
export async function prepareBundle(
  store: Store,
  c: ContainerRecord,
  paths: ContainerPaths,
  network: Promise<NetworkJoin>,
  runtime: OciRuntime,
): Promise<CompiledSeccomp | undefined> {
  await mkdir(paths.bundle, { recursive: true });
  const security = parseSecurityOpts(c.config.securityOpt);
  // Only a build's RUN makes a container whose writable layer is thrown away after one run.
  const buildStep = c.config.volatile === true;
  const shm = sharedShmDir(store, c);
  // What does not need the root mounted is read while mount runs.
  const hostSide = (async () => {
    const hostCaps = await hostCapabilities();
    const [seccomp, limits, devices] = await Promise.all([
      seccompFor(c, security, hostCaps.bounding),
      hostLimits(),
      c.config.privileged ? hostDevices() : Promise.resolve([]),
      network.then((n) => writeEtcFiles(c, paths, n.setup?.planned, n.etc !== undefined)),
    ]);
    return { hostCaps, seccomp, limits, devices, join: await network };
  })();
  hostSide.catch(() => undefined);
  // As podman mounts a --rm container's layer: nothing of it has to reach the disk.
  await mountOverlay(
    store.root,
    c.layers.map((l) => store.layers.diffDir(l)),
    paths.overlay,
    { volatile: c.config.volatile === true || c.config.autoRemove },
  );
  await mountInfraShm(c, paths);
  trace('prepare: mounted');
  const rootfs = paths.overlay.merged;
  // keep-id maps the user itself, whose directories they are: its root gets through as it is.
  if (c.config.userNamespace && c.config.userNamespace.mode !== 'keep-id') await ensureRootReachable(store.root, rootfs);
  if (c.config.userNamespace)
    await shiftOwnersOnce(
      rootfs,
      paths.dir,
      c.config.userNamespace,
      c.layers.map((l) => store.layers.diffDir(l)),
    );
  const [mounts, user, { hostCaps, seccomp, limits, devices, join }, flagJoins] = await Promise.all([
    resolveContainerMounts(store, c, paths),
    // A build step's user unknown to the image gets HOME=/ as in buildah, whatever its workdir.
    resolveUser(rootReader(rootfs), c.config.user, buildStep ? '/' : c.config.workdir),
    hostSide,
    namespaceJoinPaths(store, c),
  ]);
  await chownMountSources(store, c, user);
  await prepareWorkdir(
    rootfs,
    c,
    user,
    mounts.map((m) => m.destination),
  );
  // podman's passwd and group lines are libpod's, not buildah's: a build step's layer never takes them.
  const userMounts = buildStep
    ? []
    : await addUserEntries(rootfs, paths.bundle, user, { readOnly: c.config.readOnly, mountDestinations: mounts.map((m) => m.destination) });
  trace('prepare: user, seccomp, limits');
  const secrets = await secretMountsAndEnv(c, paths);
  const { mounts: extraMounts, groups, ...extras } = await specExtras(c, rootReader(rootfs));
  const spec = buildRuntimeSpec({
    rootfs,
    args: [...c.config.entrypoint, ...c.config.command],
    env: withHome(secrets.env, user.home),
    user: groups.length ? { ...user, additionalGids: [...new Set([...user.additionalGids, ...groups])] } : user,
    workdir: c.config.workdir,
    terminal: c.config.tty,
    hostname: c.config.hostname,
    ...(c.config.domainname ? { domainname: c.config.domainname } : {}),
    privileged: c.config.privileged,
    capAdd: c.config.capAdd,
    capDrop: c.config.capDrop,
    security,
    ...(seccomp ? { seccomp } : {}),
    readOnly: c.config.readOnly,
    mounts: [...mounts, ...secrets.mounts, ...userMounts, ...extraMounts],
    resources: {
      ...(c.config.memory !== undefined ? { memory: c.config.memory } : {}),
      ...(c.config.cpus !== undefined ? { cpus: c.config.cpus } : {}),
      ...(c.config.pidsLimit !== undefined ? { pidsLimit: c.config.pidsLimit } : {}),
    },
    ulimits: c.config.ulimits,
    ...(c.config.init ? { init: { hostPath: c.config.initPath ?? initBinary() } } : {}),
    ...(join.namespaces || Object.keys(flagJoins).length ? { joinNamespaces: { ...join.namespaces, ...flagJoins } } : {}),
    ...(shm ? { shm } : {}),
    network:
      c.config.network.mode === 'none' || c.config.network.mode === 'host'
        ? { mode: c.config.network.mode }
        : { mode: 'private', ...(join.path ? { path: join.path } : {}) },
    etcFiles: { hosts: join.etc?.hosts ?? paths.hosts, resolvConf: join.etc?.resolvConf ?? paths.resolvConf, hostname: paths.hostname },
    cgroupsPath: containerCgroupPath(c),
    ...(c.config.userNamespace ? { idMappings: c.config.userNamespace } : {}),
    annotations: c.config.annotations,
    ...extras,
    // Rootless, the namespace's CAP_SYS_RESOURCE does not lift the host's hard limits.
    host: { limits, canRaiseLimits: hostCaps.effective.includes('CAP_SYS_RESOURCE') && !isRootless(), devices, capabilities: hostCaps.bounding },
  });
  // crun's compiled filter for this profile, when an earlier create left one: this create then
  // compiles nothing. The record's annotations stay the user's; only config.json carries it.
  const compiled = compiledSeccomp(runtime, spec.linux.seccomp, spec.annotations ?? {});
  if (compiled?.program) spec.annotations = { ...spec.annotations, [SECCOMP_BPF_ANNOTATION]: compiled.program };
  // Not synced: every start writes the bundle anew, and nothing runs from it after a reboot without one.
  await writeFileAtomic(paths.config, serializeSpec(spec), 0o644, false);
  return compiled;
}

/**
 * The root's owners moved into the container's user namespace at its first start. Moving is not
 * idempotent (keep-id maps 0 to 1 and 1 to 2), so a start killed half way leaves a mark, and the
 * next one takes each owner from the image's layers instead of from the half-moved tree.
 */
async function shiftOwnersOnce(rootfs: string, containerDir: string, m: ContainerIdMappings, lowerDirs: string[]): Promise<void> {
  const done = join(containerDir, 'root-owners-shifted');
  const started = join(containerDir, 'root-owners-shifting');
  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    );
  if (await exists(done)) return;
  const recovering = await exists(started);
  await writeFile(started, '');
  await shiftRootOwners(rootfs, m, recovering ? [...lowerDirs].reverse() : undefined);
  await writeFileAtomic(done, `${JSON.stringify(m)}\n`, 0o644, false);
  await rm(started, { force: true });
  trace('prepare: owners shifted');
}
