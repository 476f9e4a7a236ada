import { posix } from 'node:path';
import type { Container, PodSpec, Volume } from 'kubernetes-types/core/v1.js';
import type { CreateOptions } from '../containers/create.js';
import { isVolumeOption } from '../containers/mount-spec.js';
import type { PodCreateOptions } from '../pods/create.js';
import { anonymousVolumeName } from '../volumes/volumes.js';
import { fieldError } from './play-schema.js';
import type { PlannedPod } from './play-parse.js';

/**
 * A planned pod in berth's words: `pod create`'s options, each container's `create` options (named
 * `<pod>-<container>` as podman names them) and what must exist on the host first (named volumes,
 * with the files of a configMap or secret volume; hostPath checks). Pure: play.ts does the making.
 */

/** A named volume the pod mounts: a claim, a ConfigMap's or Secret's files, an emptyDir. */
export interface NeededVolume {
  name: string;
  kind: 'claim' | 'configMap' | 'secret' | 'emptyDir';
  /** The files written into it at each play (configMap and secret volumes), by path inside it. */
  files?: Record<string, { data: Buffer; mode: number }>;
}

export interface HostPathCheck {
  path: string;
  type: string;
  /** Where the volume is declared, for the error. */
  where: string;
  field: string;
}

export interface MappedPod {
  pod: PodCreateOptions & { name: string };
  containers: (CreateOptions & { name: string })[];
  volumes: NeededVolume[];
  hostPaths: HostPathCheck[];
  /** Directories to make inside named volumes before the mounts (a claim's subPath), relative to the volume. */
  subPaths: { volume: string; path: string }[];
}

export interface MapContext {
  configMaps: ReadonlyMap<string, Record<string, Buffer>>;
  secrets: ReadonlyMap<string, Record<string, Buffer>>;
  /** `--network`. */
  network?: string[];
  /** A named volume's data directory (for a subPath of one, mounted as a bind). */
  volumeDir: (name: string) => string;
  createCommand?: string[];
}

const RESTART: Record<string, string> = { Always: 'always', OnFailure: 'on-failure', Never: 'no' };
const PULL: Record<string, string> = { Always: 'always', IfNotPresent: 'missing', Never: 'never' };

const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity (`64Mi`, `500m`, `1.5`, `1e3`) as a number; undefined when it is not one. */
export function parseQuantity(value: string | number): number | undefined {
  if (typeof value === 'number') return value;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|)$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * SUFFIX[m[2]!]!;
}

function modeOf(mode: number | undefined, where: string, field: string): number {
  if (mode === undefined) return -1;
  if (mode < 0 || mode > 0o777) throw fieldError(where, field, `file mode out of range (0 to 0777): ${mode}`);
  return mode;
}

/** The files of a configMap or secret volume: every key, or the listed items at their paths. */
function volumeFiles(
  data: Record<string, Buffer> | undefined,
  src: { items?: { key: string; path: string; mode?: number }[]; defaultMode?: number; optional?: boolean },
  fallbackMode: number,
  ctx: { where: string; at: string; what: string; name: string },
): Record<string, { data: Buffer; mode: number }> {
  const mode = modeOf(src.defaultMode, ctx.where, `${ctx.at}.defaultMode`);
  const defaultMode = mode === -1 ? fallbackMode : mode;
  if (!data) {
    if (src.optional) return {};
    throw fieldError(
      ctx.where,
      `${ctx.at}.${ctx.what === 'ConfigMap' ? 'name' : 'secretName'}`,
      `no ${ctx.what} named "${ctx.name}" in the file${ctx.what === 'ConfigMap' ? ' or --configmap' : ' or the store'}`,
    );
  }
  const files: Record<string, { data: Buffer; mode: number }> = {};
  if (!src.items?.length) {
    // A stored secret's keys were never checked as the file's are: a key that is no plain name is no file.
    for (const [key, bytes] of Object.entries(data))
      files[insideVolume(key, ctx.where, `${ctx.at}.${ctx.what === 'ConfigMap' ? 'name' : 'secretName'}`)] = { data: bytes, mode: defaultMode };
    return files;
  }
  src.items.forEach((item, i) => {
    const bytes = data[item.key];
    if (!bytes) {
      if (src.optional) return;
      throw fieldError(ctx.where, `${ctx.at}.items[${i}].key`, `no key "${item.key}" in ${ctx.what} "${ctx.name}"`);
    }
    const path = insideVolume(item.path, ctx.where, `${ctx.at}.items[${i}].path`);
    const m = modeOf(item.mode, ctx.where, `${ctx.at}.items[${i}].mode`);
    files[path] = { data: bytes, mode: m === -1 ? defaultMode : m };
  });
  return files;
}

/** A path inside a volume (an item's file, a subPath): relative, and never up out of it, as Kubernetes requires. */
function insideVolume(path: string, where: string, field: string): string {
  const normal = posix.normalize(path);
  if (path === '' || normal.startsWith('/') || normal === '.' || normal === '..' || normal.startsWith('../'))
    throw fieldError(where, field, `must be a relative path inside the volume, without '..': ${path}`);
  return normal;
}

/** A volumeMount's mountPath: the path in the container, and the `-v` options podman reads after a colon in it (`/data:z`, `/data:ro,Z`). */
function mountPathAndOptions(mountPath: string, where: string, field: string): { dest: string; options: string[] } {
  const parts = mountPath.split(':');
  if (parts.length > 2) throw fieldError(where, field, `"${mountPath}" incorrect volume format, should be ctr-dir[:option]`);
  const options = parts.length === 2 ? parts[1]!.split(',').filter((o) => o !== '') : [];
  for (const o of options) if (!isVolumeOption(o)) throw fieldError(where, field, `invalid option "${o}" in "${mountPath}"`);
  return { dest: posix.normalize(parts[0]!), options };
}

/** `-v`'s words cannot hold a colon in a path. */
function noColon(path: string, where: string, field: string): string {
  if (path.includes(':')) throw fieldError(where, field, `a path with a colon cannot be mounted: ${path}`);
  return path;
}

function containerEnv(c: Container, ctx: MapContext, where: string, at: string): string[] {
  const env: string[] = [];
  const lookup = (kind: 'ConfigMap' | 'Secret', name: string) => (kind === 'ConfigMap' ? ctx.configMaps : ctx.secrets).get(name);
  (c.envFrom ?? []).forEach((from, i) => {
    const [kind, ref, field] = from.configMapRef
      ? (['ConfigMap', from.configMapRef, 'configMapRef'] as const)
      : (['Secret', from.secretRef, 'secretRef'] as const);
    if (!ref) return;
    const data = lookup(kind, ref.name!);
    if (!data) {
      if (ref.optional) return;
      throw fieldError(where, `${at}.envFrom[${i}].${field}.name`, `no ${kind} named "${ref.name}"`);
    }
    for (const [k, v] of Object.entries(data)) env.push(`${from.prefix ?? ''}${k}=${v.toString('utf8')}`);
  });
  (c.env ?? []).forEach((e, i) => {
    const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
    if (!ref) {
      env.push(`${e.name}=${e.value ?? ''}`);
      return;
    }
    const [kind, field] = e.valueFrom?.configMapKeyRef ? (['ConfigMap', 'configMapKeyRef'] as const) : (['Secret', 'secretKeyRef'] as const);
    const data = lookup(kind, ref.name!);
    const value = data?.[ref.key];
    if (value === undefined) {
      if (ref.optional) return;
      const path = `${at}.env[${i}].valueFrom.${field}`;
      throw data
        ? fieldError(where, `${path}.key`, `no key "${ref.key}" in ${kind} "${ref.name}"`)
        : fieldError(where, `${path}.name`, `no ${kind} named "${ref.name}"`);
    }
    env.push(`${e.name}=${value.toString('utf8')}`);
  });
  return env;
}

function healthFlags(c: Container): CreateOptions['health'] | undefined {
  const probe = c.livenessProbe;
  if (!probe?.exec?.command?.length) return undefined;
  const words = probe.exec.command;
  // `kube generate` writes a shell healthcheck as `/bin/sh -c CMD`: read back as the shell form it was.
  const shell = words.length === 3 && ['/bin/sh', 'sh'].includes(words[0]!) && words[1] === '-c';
  return {
    healthCmd: JSON.stringify(shell ? ['CMD-SHELL', words[2]] : ['CMD', ...words]),
    ...(probe.periodSeconds !== undefined ? { healthInterval: `${probe.periodSeconds}s` } : {}),
    ...(probe.timeoutSeconds !== undefined ? { healthTimeout: `${probe.timeoutSeconds}s` } : {}),
    ...(probe.failureThreshold !== undefined ? { healthRetries: `${probe.failureThreshold}` } : {}),
    ...(probe.initialDelaySeconds !== undefined ? { healthStartPeriod: `${probe.initialDelaySeconds}s` } : {}),
  };
}

function resourceFlags(c: Container, where: string, at: string): Pick<CreateOptions, 'memory' | 'cpus'> {
  const limits = (c.resources?.limits ?? {}) as Record<string, string | number>;
  const out: Pick<CreateOptions, 'memory' | 'cpus'> = {};
  for (const [key, raw] of Object.entries(limits)) {
    const n = parseQuantity(raw);
    if (n === undefined || n < 0) throw fieldError(where, `${at}.resources.limits.${key}`, `invalid quantity: ${raw}`);
    if (key === 'memory') out.memory = `${Math.ceil(n)}`;
    else if (key === 'cpu') out.cpus = `${n}`;
  }
  return out;
}

function securityFlags(c: Container): Partial<CreateOptions> {
  const s = c.securityContext;
  if (!s) return {};
  const user =
    s.runAsUser !== undefined || s.runAsGroup !== undefined ? `${s.runAsUser ?? 0}${s.runAsGroup !== undefined ? `:${s.runAsGroup}` : ''}` : undefined;
  return {
    ...(s.capabilities?.add?.length ? { capAdd: s.capabilities.add } : {}),
    ...(s.capabilities?.drop?.length ? { capDrop: s.capabilities.drop } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(s.privileged ? { privileged: true } : {}),
    ...(s.readOnlyRootFilesystem ? { readOnly: true } : {}),
  };
}

/** The pod's volumes as berth mounts them, by volume name: a `-v` source or a tmpfs. */
function podVolumes(
  pod: PlannedPod,
  ctx: MapContext,
  out: MappedPod,
): Map<string, { source?: string; tmpfs?: string; readOnly: boolean; volume?: NeededVolume }> {
  const byName = new Map<string, { source?: string; tmpfs?: string; readOnly: boolean; volume?: NeededVolume }>();
  const need = (v: NeededVolume) => {
    const known = out.volumes.find((x) => x.name === v.name && x.kind === v.kind);
    if (known) return known;
    out.volumes.push(v);
    return v;
  };
  (pod.spec.volumes ?? []).forEach((v: Volume, i) => {
    const at = `${pod.specPath}.volumes[${i}]`;
    if (v.hostPath) {
      const path = noColon(posix.normalize(v.hostPath.path), pod.where, `${at}.hostPath.path`);
      if (!path.startsWith('/')) throw fieldError(pod.where, `${at}.hostPath.path`, `must be an absolute path: ${v.hostPath.path}`);
      out.hostPaths.push({ path, type: v.hostPath.type ?? '', where: pod.where, field: `${at}.hostPath` });
      byName.set(v.name, { source: path, readOnly: false });
    } else if (v.persistentVolumeClaim) {
      const volume = need({ name: v.persistentVolumeClaim.claimName, kind: 'claim' });
      byName.set(v.name, { source: volume.name, readOnly: v.persistentVolumeClaim.readOnly ?? false, volume });
    } else if (v.emptyDir) {
      if (v.emptyDir.medium === 'Memory') {
        const size = v.emptyDir.sizeLimit === undefined ? undefined : parseQuantity(v.emptyDir.sizeLimit as string | number);
        if (size === undefined && v.emptyDir.sizeLimit !== undefined)
          throw fieldError(pod.where, `${at}.emptyDir.sizeLimit`, `invalid quantity: ${v.emptyDir.sizeLimit}`);
        byName.set(v.name, { tmpfs: size === undefined ? '' : `size=${Math.ceil(size)}`, readOnly: false });
      } else {
        // An anonymous volume the pod's containers share, gone with the pod (kube down, pod rm's prune).
        const volume = need({ name: anonymousVolumeName(), kind: 'emptyDir' });
        byName.set(v.name, { source: volume.name, readOnly: false, volume });
      }
    } else if (v.configMap) {
      const files = volumeFiles(ctx.configMaps.get(v.configMap.name!), v.configMap as never, 0o644, {
        where: pod.where,
        at: `${at}.configMap`,
        what: 'ConfigMap',
        name: v.configMap.name!,
      });
      // podman's rule: a named volume of the ConfigMap's name, holding its files, mounted read-only.
      const volume = need({ name: v.configMap.name!, kind: 'configMap', files });
      byName.set(v.name, { source: volume.name, readOnly: true, volume });
    } else if (v.secret) {
      const files = volumeFiles(ctx.secrets.get(v.secret.secretName!), v.secret as never, 0o400, {
        where: pod.where,
        at: `${at}.secret`,
        what: 'Secret',
        name: v.secret.secretName!,
      });
      const volume = need({ name: v.secret.secretName!, kind: 'secret', files });
      byName.set(v.name, { source: volume.name, readOnly: true, volume });
    }
  });
  return byName;
}

/** A planned pod mapped to berth's pod and container options (see the file's comment). */
export function mapPod(pod: PlannedPod, ctx: MapContext): MappedPod {
  const spec: PodSpec = pod.spec;
  const hostNetwork = spec.hostNetwork === true;
  const out: MappedPod = { pod: { name: pod.name }, containers: [], volumes: [], hostPaths: [], subPaths: [] };
  const publish: string[] = [];
  spec.containers.forEach((c) =>
    (c.ports ?? []).forEach((p) => {
      if (!p.hostPort) return;
      const proto = p.protocol && p.protocol !== 'TCP' ? `/${p.protocol.toLowerCase()}` : '';
      publish.push(`${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort}:${p.containerPort}${proto}`);
    }),
  );
  const network = hostNetwork ? ['host'] : (ctx.network ?? []);
  out.pod = {
    name: pod.name,
    // As podman's kube play: the pod stops once its containers have all exited.
    exitPolicy: 'stop',
    ...(publish.length && !hostNetwork ? { publish } : {}),
    ...(network.length ? { network } : {}),
    ...(spec.hostname ? { hostname: spec.hostname } : {}),
    ...(spec.hostAliases?.length ? { addHosts: spec.hostAliases.flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`)) } : {}),
    ...(spec.dnsConfig?.nameservers?.length ? { dns: spec.dnsConfig.nameservers } : {}),
    ...(spec.dnsConfig?.searches?.length ? { dnsSearch: spec.dnsConfig.searches } : {}),
    ...(spec.dnsConfig?.options?.length ? { dnsOptions: spec.dnsConfig.options.map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name!)) } : {}),
    labels: Object.entries(pod.labels).map(([k, v]) => `${k}=${v}`),
    ...(ctx.createCommand ? { createCommand: ctx.createCommand } : {}),
  };
  const volumes = podVolumes(pod, ctx, out);
  const restart = RESTART[spec.restartPolicy ?? 'Always']!;
  spec.containers.forEach((c, ci) => {
    const at = `${pod.specPath}.containers[${ci}]`;
    const binds: string[] = [];
    const tmpfs: string[] = [];
    (c.volumeMounts ?? []).forEach((m, mi) => {
      const v = volumes.get(m.name)!;
      const { dest, options } = mountPathAndOptions(m.mountPath, pod.where, `${at}.volumeMounts[${mi}].mountPath`);
      const readOnly = m.readOnly || options.includes('ro');
      if (v.tmpfs !== undefined) {
        const opts = [...(v.tmpfs ? [v.tmpfs] : []), ...(readOnly ? ['ro'] : [])].join(',');
        tmpfs.push(opts ? `${dest}:${opts}` : dest);
        return;
      }
      let source = v.source!;
      if (m.subPath) {
        // A subPath mounts a part of the volume: a bind of that path (a named volume's inside its data directory).
        const sub = insideVolume(m.subPath, pod.where, `${at}.volumeMounts[${mi}].subPath`);
        source = noColon(v.volume ? posix.join(ctx.volumeDir(v.volume.name), sub) : posix.join(source, sub), pod.where, `${at}.volumeMounts[${mi}].subPath`);
        if (v.volume && (v.volume.kind === 'claim' || v.volume.kind === 'emptyDir')) out.subPaths.push({ volume: v.volume.name, path: sub });
      }
      // A readOnly mount or volume wins over an `rw` in the path's options.
      const bindOptions = [...options.filter((o) => o !== 'ro' && (o !== 'rw' || !(readOnly || v.readOnly))), ...(readOnly || v.readOnly ? ['ro'] : [])];
      binds.push(`${source}:${dest}${bindOptions.length ? `:${bindOptions.join(',')}` : ''}`);
    });
    const health = healthFlags(c);
    const opts: CreateOptions & { name: string } = {
      image: c.image!,
      name: `${pod.name}-${c.name}`,
      ...(c.command?.length ? { entrypoint: JSON.stringify(c.command) } : {}),
      ...(c.args?.length ? { command: c.args } : {}),
      ...(c.workingDir ? { workdir: c.workingDir, createWorkdir: true } : {}),
      env: containerEnv(c, ctx, pod.where, at),
      restart,
      ...resourceFlags(c, pod.where, at),
      ...securityFlags(c),
      ...(health ? { health } : {}),
      ...(binds.length ? { volumes: binds } : {}),
      ...(tmpfs.length ? { tmpfs } : {}),
      ...(c.tty ? { tty: true } : {}),
      ...(c.stdin ? { stdin: true } : {}),
      ...(c.imagePullPolicy ? { pull: PULL[c.imagePullPolicy]! } : {}),
      ...(spec.terminationGracePeriodSeconds !== undefined ? { stopTimeout: spec.terminationGracePeriodSeconds } : {}),
      annotations: Object.entries(pod.annotations).map(([k, v]) => `${k}=${v}`),
      ...(ctx.createCommand ? { createCommand: ctx.createCommand } : {}),
    };
    out.containers.push(opts);
  });
  return out;
}
