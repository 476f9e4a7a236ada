import { networkHostConfig, networkSettings } from './inspect-network.js';
import { readFile } from 'node:fs/promises';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { volumeDataDir } from '../volumes/volumes.js';
import { readHealth } from './health.js';
import { tuningHostConfig, umaskText } from './inspect-extras.js';
import { containerPaths, runRootOf } from './paths.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

interface BundleSpec {
  process?: { capabilities?: { effective?: string[]; bounding?: string[] } };
  mounts?: { destination: string; source?: string; type?: string; options?: string[] }[];
}

/** `podman container inspect`'s shape, with berth's values. */
export async function inspectContainer(store: Store, c: ContainerRecord): Promise<Record<string, unknown>> {
  const paths = containerPaths(store, c.id);
  const spec = JSON.parse(await readFile(paths.config, 'utf8').catch(() => '{}')) as BundleSpec;
  const running = c.state.status === 'running' || c.state.status === 'paused';
  const hc = c.config.healthcheck;
  // podman 4 calls it Healthcheck, docker and podman 5 Health: both, as the same object.
  const health = hc ? await readHealth(store, c.id) : undefined;
  return {
    Id: c.id,
    Created: c.created,
    Path: [...c.config.entrypoint, ...c.config.command][0] ?? '',
    Args: [...c.config.entrypoint, ...c.config.command].slice(1),
    State: {
      OciVersion: '1.1.0',
      Status: c.state.status,
      Running: c.state.status === 'running',
      Paused: c.state.status === 'paused',
      Restarting: false,
      OOMKilled: c.state.oomKilled,
      Dead: false,
      Pid: running ? c.state.pid : 0,
      ConmonPid: running ? c.state.conmonPid : 0,
      ExitCode: c.state.exitCode,
      Error: c.state.error ?? '',
      StartedAt: c.state.startedAt ?? ZERO_TIME,
      FinishedAt: c.state.finishedAt ?? ZERO_TIME,
      CheckpointedAt: ZERO_TIME,
      RestoredAt: ZERO_TIME,
      ...(health ? { Health: health, Healthcheck: health } : {}),
    },
    Image: c.image.replace(/^sha256:/, ''),
    // The image's manifest digest, as podman shows it (the config digest is the image ID).
    ImageDigest: (await store.images()).find((i) => i.id === c.image)?.manifestDigest ?? c.image,
    ImageName: c.imageName,
    Rootfs: '',
    Pod: '',
    ResolvConfPath: paths.resolvConf,
    HostnamePath: paths.hostname,
    HostsPath: paths.hosts,
    StaticDir: paths.bundle,
    OCIConfigPath: paths.config,
    OCIRuntime: c.config.runtime,
    ConmonPidFile: c.config.conmonPidFile ?? paths.conmonPidFile,
    PidFile: c.config.pidFile ?? paths.pidFile,
    Name: c.name,
    RestartCount: c.state.restartCount,
    Driver: 'overlay',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    EffectiveCaps: spec.process?.capabilities?.effective ?? null,
    BoundingCaps: spec.process?.capabilities?.bounding ?? null,
    ExecIDs: [],
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: [...c.layers]
          .reverse()
          .map((l) => store.layers.diffDir(l))
          .join(':'),
        UpperDir: paths.overlay.upper,
        WorkDir: paths.overlay.work,
        ...(c.state.mounted ? { MergedDir: paths.overlay.merged } : {}),
      },
    },
    Mounts: (c.config.mountSpecs ?? []).flatMap((m) => {
      if (m.type === 'tmpfs') return [];
      const common = {
        Destination: m.destination,
        Mode: '',
        Options: ['rbind'],
        RW: !m.options.includes('ro'),
        Propagation: m.options.find((o) => /^r?(shared|slave|private|unbindable)$/.test(o)) ?? 'rprivate',
      };
      if (m.type === 'volume') return [{ Type: 'volume', Name: m.name, Source: volumeDataDir(store, m.name), Driver: 'local', ...common }];
      // podman names the image as the user did.
      if (m.type === 'image') return [{ Type: 'image', Source: m.source, Driver: '', ...common }];
      return [{ Type: 'bind', Source: m.source, Driver: '', ...common }];
    }),
    Dependencies: [],
    NetworkSettings: networkSettings(c),
    Namespace: '',
    IsInfra: false,
    IsService: false,
    Config: {
      Hostname: c.config.hostname,
      Domainname: c.config.domainname ?? '',
      User: c.config.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: c.config.tty,
      OpenStdin: c.config.stdin,
      StdinOnce: false,
      Env: c.config.env,
      Cmd: c.config.command.length ? c.config.command : null,
      Image: c.imageName,
      Volume: null,
      WorkingDir: c.config.workdir,
      Entrypoint: c.config.entrypoint.length ? c.config.entrypoint.join(' ') : '',
      OnBuild: null,
      Labels: Object.keys(c.config.labels).length ? c.config.labels : null,
      Annotations: c.config.annotations,
      StopSignal: c.config.stopSignal,
      StopTimeout: c.config.stopTimeout,
      CreateCommand: c.config.createCommand,
      Umask: umaskText(c),
      ...(c.config.timezone !== undefined ? { Timezone: c.config.timezone } : {}),
      Timeout: 0,
      ...(hc
        ? {
            Healthcheck: { Test: hc.Test, Interval: hc.Interval, Timeout: hc.Timeout, StartPeriod: hc.StartPeriod, Retries: hc.Retries },
            HealthcheckOnFailureAction: hc.OnFailure,
          }
        : {}),
    },
    HostConfig: {
      Binds: c.config.volumes,
      AutoRemove: c.config.autoRemove,
      CapAdd: c.config.capAdd,
      CapDrop: c.config.capDrop,
      ...networkHostConfig(c),
      Privileged: c.config.privileged,
      ReadonlyRootfs: c.config.readOnly,
      RestartPolicy: { Name: c.config.restartPolicy.name === 'no' ? '' : c.config.restartPolicy.name, MaximumRetryCount: c.config.restartPolicy.maxRetries },
      Runtime: 'oci',
      SecurityOpt: c.config.securityOpt,
      Tmpfs: Object.fromEntries((c.config.mountSpecs ?? []).flatMap((m) => (m.type === 'tmpfs' ? [[m.destination, m.options.join(',')]] : []))),
      Memory: c.config.memory ?? 0,
      NanoCpus: Math.round((c.config.cpus ?? 0) * 1e9),
      PidsLimit: c.config.pidsLimit ?? 0,
      Ulimits: c.config.ulimits,
      Init: c.config.init,
      ...tuningHostConfig(c),
    },
    RunRoot: runRootOf(store),
  };
}
