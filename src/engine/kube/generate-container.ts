import type { Container, ContainerPort, EnvVar, Probe, SecurityContext, Volume, VolumeMount } from 'kubernetes-types/core/v1.js';
import type { ContainerConfig } from '../../oci/manifest.js';
import { DEFAULT_CAPABILITIES, effectiveCapabilities } from '../../runtime/capabilities.js';
import type { ContainerMount, ContainerRecord, HealthConfig } from '../../store/containers.js';
import { publishedPorts } from '../containers/inspect-network.js';
import { cpuQuantity, memoryQuantity } from './quantity.js';
import { hostVolumeName, kubeName } from './names.js';

/** What a bind's host path is, as podman reads it when it generates: it decides the hostPath's type. */
export type HostPathType = 'Directory' | 'File' | 'DirectoryOrCreate';

/** One container as `kube generate` reads it: its record, its image's config, and what its binds' sources are. */
export interface ContainerSource {
  /** With its state: a port published on a random host port is written with the port it got. */
  record: ContainerRecord;
  /** The image's config; undefined when the image is gone, and then nothing is left out as the image's. */
  image: ContainerConfig | undefined;
  /** Each bind's source path to what is there now (DirectoryOrCreate: nothing). */
  hostPaths: Record<string, HostPathType>;
}

/** One container of the Pod, the Pod's volumes its mounts need, and the Pod annotations it brings. */
export interface KubeContainer {
  container: Container;
  volumes: Volume[];
  annotations: Record<string, string>;
}

/** The PATH every berth container gets unless its image says otherwise, as a Kubernetes runtime gives it (podman leaves its own out too). */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const sameArgs = (a: readonly string[] | null | undefined, b: readonly string[] | null | undefined) =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((w, i) => w === b?.[i]);

/**
 * Docker's Entrypoint/Cmd as Kubernetes' command/args, as podman splits them: an entrypoint is the
 * command and the cmd its args; without one the cmd is the command. What the image gives anyway is
 * left out, so the YAML keeps following the image.
 */
export function processFields(record: ContainerRecord, image: ContainerConfig | undefined): Pick<Container, 'command' | 'args'> {
  const { entrypoint, command: cmd } = record.config;
  const imageEntrypoint = image?.Entrypoint ?? [];
  const imageCmd = image?.Cmd ?? [];
  if (image && sameArgs(entrypoint, imageEntrypoint)) {
    // The image's entrypoint (or none on either side): only a cmd of the user's own is written.
    if (sameArgs(cmd, imageCmd)) return {};
    if (entrypoint.length === 0) return { command: cmd };
    // No args at all must be said with the command: empty args would let the image's cmd back in.
    return cmd.length ? { args: cmd } : { command: entrypoint };
  }
  if (entrypoint.length === 0) return { command: cmd };
  return cmd.length ? { command: entrypoint, args: cmd } : { command: entrypoint };
}

/** The environment less what berth adds itself and what the image's config already says, as podman writes it. */
export function envFields(record: ContainerRecord, image: ContainerConfig | undefined): EnvVar[] {
  const fromImage = new Map<string, string>();
  for (const entry of image?.Env ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) fromImage.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  const out: EnvVar[] = [];
  for (const entry of record.config.env) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (fromImage.get(name) === value) continue;
    if (name === 'PATH' && value === DEFAULT_PATH && !fromImage.has('PATH')) continue;
    if (name === 'container' && value === 'berth') continue;
    if (name === 'TERM' && value === 'xterm' && record.config.tty) continue;
    // The pod's hostname is its own field; the runtime sets HOSTNAME from it.
    if (name === 'HOSTNAME' && value === record.config.hostname) continue;
    out.push({ name, value });
  }
  return out;
}

/** `-p` as containerPorts: one per port of a range, TCP left implicit (Kubernetes' default), as podman writes them. */
export function containerPorts(record: ContainerRecord): ContainerPort[] {
  const out: ContainerPort[] = [];
  for (const p of publishedPorts(record)) {
    for (let i = 0; i < p.range; i++) {
      const port: ContainerPort = { containerPort: p.container_port + i };
      if (p.host_port !== 0) port.hostPort = p.host_port + i;
      if (p.host_ip !== '') port.hostIP = p.host_ip;
      if (p.protocol !== 'tcp') port.protocol = p.protocol.toUpperCase();
      out.push(port);
    }
  }
  return out;
}

/** `--user UID[:GID]` in numbers: a name would need the image's /etc/passwd, which generate does not read. */
function numericUser(user: string): { uid?: number; gid?: number } {
  const [u = '', g] = user.split(':');
  const out: { uid?: number; gid?: number } = {};
  if (/^\d+$/.test(u)) out.uid = Number(u);
  if (g !== undefined && /^\d+$/.test(g)) out.gid = Number(g);
  return out;
}

/** Capabilities against podman's default set, privileged, a read-only root, no-new-privileges and a numeric user. */
export function securityContext(record: ContainerRecord, image: ContainerConfig | undefined): SecurityContext | undefined {
  const c = record.config;
  const sc: SecurityContext = {};
  if (c.privileged) sc.privileged = true;
  else {
    const effective = effectiveCapabilities(c);
    const add = effective.filter((cap) => !DEFAULT_CAPABILITIES.includes(cap));
    const drop = DEFAULT_CAPABILITIES.filter((cap) => !effective.includes(cap));
    if (add.length || drop.length) sc.capabilities = { ...(add.length ? { add } : {}), ...(drop.length ? { drop } : {}) };
  }
  if (c.readOnly) sc.readOnlyRootFilesystem = true;
  if (c.securityOpt.some((o) => o === 'no-new-privileges' || o === 'no-new-privileges:true' || o === 'no-new-privileges=true'))
    sc.allowPrivilegeEscalation = false;
  if (c.user !== '' && c.user !== (image?.User ?? '')) {
    const { uid, gid } = numericUser(c.user);
    if (uid !== undefined) sc.runAsUser = uid;
    if (gid !== undefined) sc.runAsGroup = gid;
  }
  return Object.keys(sc).length ? sc : undefined;
}

/** Whole seconds, at least `min`: Kubernetes' probe fields take no fractions. */
const seconds = (ns: number, min: number) => Math.max(min, Math.ceil(ns / 1e9));

/** A shell command of plain words only: no quotes, expansions, operators or redirections, no leading VAR=value. */
const PLAIN_WORDS = /^[A-Za-z0-9_\-.,/:@%+]+( +[A-Za-z0-9_\-.,/:=@%+]+)*$/;

/** Words only a shell runs (its builtins), which no exec could find as a program. */
const SHELL_ONLY = new Set([
  'exit',
  'cd',
  'export',
  'set',
  'unset',
  'source',
  '.',
  'eval',
  'exec',
  'return',
  'shift',
  'trap',
  'wait',
  'ulimit',
  'umask',
  'alias',
  'read',
  'command',
  'type',
  'local',
]);

/**
 * The probe's command for a `CMD-SHELL` healthcheck. A command of plain words is written as those
 * words: Kubernetes runs them directly, and podman's `kube play`, which joins the words with spaces
 * and runs the result through a shell, gets the same command back. Anything else needs the shell:
 * `/bin/sh -c COMMAND`, as Docker runs it (podman's play reads that back as a shell running just the
 * first word of COMMAND: no words can say it to both).
 */
function shellProbeCommand(command: string): string[] {
  const words = command.trim().split(/ +/);
  const plain = PLAIN_WORDS.test(command.trim()) && !SHELL_ONLY.has(words[0]!);
  return plain ? words : ['/bin/sh', '-c', command];
}

/**
 * The healthcheck as a liveness probe: `CMD` words run as they are, `CMD-SHELL` as above; interval,
 * timeout, retries and start period become the probe's timing.
 */
export function livenessProbe(hc: HealthConfig | undefined): Probe | undefined {
  if (!hc || hc.Test.length < 2) return undefined;
  const [kind, ...rest] = hc.Test;
  const command = kind === 'CMD-SHELL' ? shellProbeCommand(rest.join(' ')) : kind === 'CMD' ? rest : undefined;
  if (!command) return undefined;
  const probe: Probe = { exec: { command }, timeoutSeconds: seconds(hc.Timeout, 1), failureThreshold: hc.Retries };
  // An interval of 0 is podman's "no timer"; Kubernetes has no such probe, so its default period stands.
  if (hc.Interval > 0) probe.periodSeconds = seconds(hc.Interval, 1);
  if (hc.StartPeriod > 0) probe.initialDelaySeconds = seconds(hc.StartPeriod, 0);
  return probe;
}

const readOnly = (m: ContainerMount) => m.options.includes('ro');

/**
 * The container's mounts as volumeMounts and the Pod volumes behind them, podman's way: binds,
 * tmpfs and anonymous volumes first, numbered in that order (`<path>-host-N`, `tmp-N`), then named
 * volumes as PersistentVolumeClaims (`<name>-pvc`, the claim named after the volume). The image's
 * own VOLUMEs are left out: playing the YAML makes them again from the image.
 */
export function volumeFields(src: ContainerSource): { mounts: VolumeMount[]; volumes: Volume[] } {
  const imageVolumes = new Set(Object.keys(src.image?.Volumes ?? {}));
  const mounts: VolumeMount[] = [];
  const volumes: Volume[] = [];
  const named: Extract<ContainerMount, { type: 'volume' }>[] = [];
  let index = 0;
  for (const m of src.record.config.mountSpecs) {
    if (m.type === 'volume' && !m.anonymous) {
      named.push(m);
      continue;
    }
    if (m.type === 'volume' && imageVolumes.has(m.destination)) continue;
    // An image mount has no Kubernetes volume before 1.31's `image`, which podman 4 does not write.
    if (m.type === 'image') continue;
    const n = index++;
    let volume: Volume;
    if (m.type === 'bind') volume = { name: hostVolumeName(m.source, n), hostPath: { path: m.source, type: src.hostPaths[m.source] ?? 'DirectoryOrCreate' } };
    else if (m.type === 'tmpfs') volume = { name: kubeName(`tmp-${n}`), emptyDir: { medium: 'Memory' } };
    else volume = { name: kubeName(`anon-${n}`), emptyDir: {} };
    volumes.push(volume);
    mounts.push({ name: volume.name, mountPath: m.destination, ...(readOnly(m) ? { readOnly: true } : {}) });
  }
  for (const m of named) {
    const name = kubeName(`${m.name}-pvc`);
    const ro = readOnly(m);
    volumes.push({ name, persistentVolumeClaim: { claimName: m.name, ...(ro ? { readOnly: true } : {}) } });
    mounts.push({ name, mountPath: m.destination, ...(ro ? { readOnly: true } : {}) });
  }
  return { mounts, volumes };
}

/** `--memory` and `--cpus` as limits, in Kubernetes' canonical quantities (64Mi, 500m). */
function resources(record: ContainerRecord): Container['resources'] {
  const limits: Record<string, string> = {};
  if (record.config.memory) limits.memory = memoryQuantity(record.config.memory);
  const cpu = record.config.cpus ? cpuQuantity(record.config.cpus) : undefined;
  if (cpu) limits.cpu = cpu;
  return Object.keys(limits).length ? { limits } : undefined;
}

/**
 * The Pod annotations one container brings: its own, keyed `KEY/<container>` as podman does.
 * podman also writes its io.podman.annotations.* (init, privileged, autoremove…) and CRI-O's, but
 * its `kube play` reads none of them back (privileged comes from the securityContext), so they are left out.
 */
function containerAnnotations(record: ContainerRecord, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(record.config.annotations).map(([k, v]) => [`${k}/${name}`, v]));
}

/** A container of a Pod, as podman's `kube generate` writes it (with a liveness probe from its healthcheck). */
export function kubeContainer(src: ContainerSource): KubeContainer {
  const { record, image } = src;
  const c = record.config;
  const name = kubeName(record.name.replaceAll('_', ''));
  const container: Container = { name, image: record.imageName, ...processFields(record, image) };
  const env = envFields(record, image);
  if (env.length) container.env = env;
  const ports = containerPorts(record);
  if (ports.length) container.ports = ports;
  if (c.workdir !== '/' && c.workdir !== (image?.WorkingDir || '/')) container.workingDir = c.workdir;
  const sc = securityContext(record, image);
  if (sc) container.securityContext = sc;
  const limits = resources(record);
  if (limits) container.resources = limits;
  const probe = livenessProbe(c.healthcheck);
  if (probe) container.livenessProbe = probe;
  if (c.tty) container.tty = true;
  if (c.stdin) container.stdin = true;
  const { mounts, volumes } = volumeFields(src);
  if (mounts.length) container.volumeMounts = mounts;
  return { container, volumes, annotations: containerAnnotations(record, name) };
}
