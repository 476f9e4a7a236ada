import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, open, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Container } from 'kubernetes-types/core/v1.js';
import { parse as parseYaml } from 'yaml';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { trace } from '../../util/trace.js';
import { settleAll } from '../../util/settle-all.js';
// Other nouns' modules directly, as engine/pods does: a face imported inside the engine is loaded whole by the bundle.
import { createContainer } from '../containers/create.js';
import { logDriverOf } from '../containers/process-config.js';
import { findOrPullImage } from '../containers/create-image.js';
import { startContainer } from '../containers/lifecycle.js';
import { createPod } from '../pods/create.js';
import { findPod, listPodRecords, type PodRecord } from '../pods/records.js';
import { removePod, startPod } from '../pods/lifecycle.js';
import { createSecret, findSecret, listSecrets, readSecretData, removeSecrets } from '../secrets/secrets.js';
import { createVolume, pruneVolumes, volumeDataDir } from '../volumes/volumes.js';
import { mapPod, type MappedPod } from './play-map.js';
import { planKube, type KubePlan, type KubeSource, type PlannedPod } from './play-parse.js';
import { fieldError } from './play-schema.js';

/**
 * `kube play`: a kube file made real. Everything is checked first (the documents, the references
 * between them, hostPaths, names already taken, images pulled or built), then made: Secrets as berth
 * secrets, claims as named volumes, each pod with its containers; a failure while making removes
 * what this play made, so a play either happens or leaves nothing.
 */

/** The label on the volumes kube play makes for a configMap, secret or emptyDir volume: kube down removes them. */
export const KUBE_VOLUME_LABEL = 'io.berth.kube.volume';
/** On an emptyDir's volume: the pod it belongs to. */
export const KUBE_POD_LABEL = 'io.berth.kube.pod';

export interface KubePlayOptions {
  /** `--build`: build an image whose directory (its name) beside the kube file has a Containerfile. */
  build?: boolean;
  /** Where `--build` looks: `--context-dir`, else the kube file's directory. */
  contextDir?: string;
  network?: string[];
  replace?: boolean;
  /** `--start=false`: create only. */
  start?: boolean;
  configMapFiles?: KubeSource[];
  /** `--log-driver` of every container it creates: k8s-file (the default) or none. */
  logDriver?: string;
  createCommand?: string[];
  warn?: (message: string) => void;
  onPull?: (name: string) => void;
  /** Build output (STEP lines), as `build` prints it. */
  buildOut?: (text: string) => void;
}

export interface KubePlayReport {
  volumes: string[];
  pods: { id: string; name: string; containers: string[] }[];
  secrets: string[];
}

/** A stored secret's keys: a Kubernetes Secret (JSON or YAML, as later podman keeps them) or podman 4.3's map of base64 values. */
export function storedSecretData(bytes: Buffer): Record<string, Buffer> | undefined {
  let parsed: unknown;
  try {
    parsed = parseYaml(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const obj = parsed as Record<string, unknown>;
  const b64 = (m: unknown) =>
    typeof m === 'object' && m !== null
      ? Object.fromEntries(
          Object.entries(m)
            .filter(([, v]) => typeof v === 'string')
            .map(([k, v]) => [k, Buffer.from(v as string, 'base64')]),
        )
      : {};
  if (obj.kind === 'Secret') {
    const strings =
      typeof obj.stringData === 'object' && obj.stringData !== null ? Object.entries(obj.stringData).map(([k, v]) => [k, Buffer.from(String(v))] as const) : [];
    return { ...b64(obj.data), ...Object.fromEntries(strings) };
  }
  return b64(obj);
}

/** The secret names a pod refers to (env, envFrom, volumes). */
function secretRefs(pods: readonly PlannedPod[]): Set<string> {
  const names = new Set<string>();
  const fromContainer = (c: Container) => {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) names.add(e.secretRef.name);
  };
  for (const p of pods) {
    p.spec.containers.forEach(fromContainer);
    for (const v of p.spec.volumes ?? []) if (v.secret?.secretName) names.add(v.secret.secretName);
  }
  return names;
}

/** The secrets' keys: the file's Secrets, and the store's for the other names the pods use. */
async function secretLookup(store: Store, plan: KubePlan): Promise<Map<string, Record<string, Buffer>>> {
  const lookup = new Map(plan.secrets.map((s) => [s.name, s.data]));
  const stored = await listSecrets(store);
  for (const name of secretRefs(plan.pods)) {
    if (lookup.has(name)) continue;
    const record = findSecret(stored, name);
    if (!record) continue;
    const data = storedSecretData(await readSecretData(store, record));
    if (!data) throw new BerthError('USAGE', `kube play: secret "${name}" is not a Kubernetes Secret (a Secret object, or a map of base64 values)`);
    lookup.set(name, data);
  }
  return lookup;
}

/** hostPath's `type`, checked (and the *OrCreate made) as the kubelet and podman do. */
export async function checkHostPath(check: MappedPod['hostPaths'][number], create: boolean): Promise<void> {
  const st = await stat(check.path).catch(() => undefined);
  const fail = (msg: string) => fieldError(check.where, `${check.field}.type`, msg);
  switch (check.type) {
    case 'Directory':
      if (!st?.isDirectory()) throw fail(`${check.path} is not a directory`);
      return;
    case 'DirectoryOrCreate':
      if (st && !st.isDirectory()) throw fail(`${check.path} exists and is not a directory`);
      if (!st && create) await mkdir(check.path, { recursive: true, mode: 0o755 });
      return;
    case 'File':
      if (!st?.isFile()) throw fail(`${check.path} is not a file`);
      return;
    case 'FileOrCreate':
      if (st && !st.isFile()) throw fail(`${check.path} exists and is not a file`);
      if (!st && create) {
        await mkdir(dirname(check.path), { recursive: true, mode: 0o755 });
        await (await open(check.path, 'a', 0o644)).close();
      }
      return;
    case 'Socket':
      if (!st?.isSocket()) throw fail(`${check.path} is not a socket`);
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw fail(`${check.path} is not a character device`);
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw fail(`${check.path} is not a block device`);
      return;
    default:
      // No type: nothing checked; a missing path is made as a directory, as `-v` does.
      if (!st && create) await mkdir(check.path, { recursive: true, mode: 0o755 });
  }
}

/** podman's rule for `--build`: an image's directory is its name's last component, without tag or digest. */
export function buildDirName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  return last.split(':')[0]!;
}

/** The images, found, pulled or built before anything is made: a missing image fails the play with nothing made. */
async function prepareImages(store: Store, mapped: readonly MappedPod[], opts: KubePlayOptions): Promise<void> {
  const done = new Set<string>();
  for (const c of mapped.flatMap((m) => m.containers)) {
    if (done.has(c.image)) continue;
    done.add(c.image);
    const dir = opts.contextDir ? join(opts.contextDir, buildDirName(c.image)) : undefined;
    const file = dir && ['Containerfile', 'Dockerfile'].map((f) => join(dir, f)).find((f) => existsSync(f));
    const { findImage } = await import('../../store/lookup.js');
    // podman 4.3 builds with --build, and also when the image is missing and its directory is there.
    if (file && (opts.build || !findImage(await store.images(), c.image))) {
      const { buildImage } = await import('../build/build.js');
      await buildImage(store, { contextDir: dir!, file, tags: [c.image], ...(opts.buildOut ? { out: opts.buildOut } : {}) });
      continue;
    }
    await findOrPullImage(store, c.image, { ...(c.pull ? { pull: c.pull } : {}), ...(opts.onPull ? { onPull: opts.onPull } : {}) });
  }
}

/** Names the play would take that are taken (unless --replace takes them back first). */
async function checkNames(store: Store, plan: KubePlan, mapped: readonly MappedPod[], replace: boolean): Promise<void> {
  const pods = await listPodRecords(store);
  const replaced = new Set<string>();
  for (const m of mapped) {
    const existing = findPod(pods, m.pod.name);
    if (existing?.name !== m.pod.name) continue;
    if (!replace) throw new BerthError('POD_EXISTS', `kube play: name "${m.pod.name}" is in use: pod already exists (use --replace, or kube down first)`);
    replaced.add(existing.id);
  }
  const containers = await store.containerRecords();
  for (const c of mapped.flatMap((m) => m.containers)) {
    const holder = containers.find((r) => r.name === c.name);
    if (holder && !(holder.config.pod && replaced.has(holder.config.pod.id)))
      throw new BerthError('CONTAINER_EXISTS', `kube play: the container name "${c.name}" is already in use by ${holder.id}: that name is already in use`);
  }
  if (!replace) {
    const secrets = await listSecrets(store);
    for (const s of plan.secrets)
      if (secrets.some((r) => r.name === s.name))
        throw new BerthError('SECRET_EXISTS', `kube play: ${s.name}: secret name in use (use --replace, or kube down first)`);
  }
}

/** Writes a configMap's or secret's files into its volume (at each play: the file's data wins). */
async function fillVolume(store: Store, name: string, files: Record<string, { data: Buffer; mode: number }>): Promise<void> {
  const dir = volumeDataDir(store, name);
  const root = await realpath(dir);
  for (const [path, { data, mode }] of Object.entries(files)) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    // The volume may be one a container wrote (a name taken before): a directory it made a link
    // would lead the write out of the volume.
    const parent = await realpath(dirname(target));
    if (parent !== root && !parent.startsWith(`${root}/`))
      throw new BerthError(
        'USAGE',
        `kube play: volume ${name}: ${dirname(path)} leads out of the volume (a symbolic link): remove the volume or rename the ConfigMap or Secret`,
      );
    // A link left where a file goes would be followed out of the volume: replace it.
    if ((await lstat(target).catch(() => undefined))?.isSymbolicLink()) await rm(target);
    await writeFile(target, data, { mode });
    await chmod(target, mode);
  }
}

export async function playKube(store: Store, source: KubeSource, opts: KubePlayOptions = {}): Promise<KubePlayReport> {
  trace('kube play: begin');
  const warn = opts.warn ?? (() => undefined);
  const logDriver = logDriverOf(opts.logDriver);
  const plan = planKube(source, opts.configMapFiles ?? [], warn);
  trace('kube play: planned');
  const ctx = {
    configMaps: plan.configMaps,
    secrets: await secretLookup(store, plan),
    ...(opts.network?.length ? { network: opts.network } : {}),
    volumeDir: (name: string) => volumeDataDir(store, name),
    ...(opts.createCommand ? { createCommand: opts.createCommand } : {}),
  };
  const mapped = plan.pods.map((p) => mapPod(p, ctx));
  for (const check of mapped.flatMap((m) => m.hostPaths)) await checkHostPath(check, false);
  await checkNames(store, plan, mapped, opts.replace ?? false);
  await prepareImages(store, mapped, opts);
  trace('kube play: images found');
  if (opts.replace) {
    const pods = await listPodRecords(store);
    for (const m of mapped) {
      const existing = findPod(pods, m.pod.name);
      if (existing?.name === m.pod.name) await removePod(store, existing.id, { force: true, timeout: 0, warn });
    }
    // The replaced pods' emptyDirs go with them, as kube down takes them.
    const names = new Set(mapped.map((m) => m.pod.name));
    await pruneVolumes(store, (v) => v.labels[KUBE_VOLUME_LABEL] === 'emptyDir' && names.has(v.labels[KUBE_POD_LABEL] ?? ''));
  }

  const report: KubePlayReport = { volumes: [], pods: [], secrets: [] };
  const made = { pods: [] as string[], secrets: [] as string[], volumes: [] as string[] };
  // Each pod's infra starts as soon as it exists, before anything else is made: its mount,
  // namespaces and network overlap the making of the secrets, volumes and containers, which the
  // infra does not use. Its outcome is not awaited here: the pods' start below starts whatever is
  // not running (under each container's lock, so never twice), and says why one cannot start.
  const infraStarts: Promise<unknown>[] = [];
  try {
    const pods: PodRecord[] = [];
    for (const m of mapped) {
      for (const check of m.hostPaths) await checkHostPath(check, true);
      const pod = await createPod(store, { ...m.pod, warn });
      made.pods.push(pod.id);
      pods.push(pod);
      if (opts.start !== false && pod.infraId) infraStarts.push(startContainer(store, pod.infraId, { warn }).catch(() => undefined));
      trace('kube play: pod created, infra starting');
    }
    for (const s of plan.secrets) {
      // Stored as the Secret object (its data base64, stringData folded in), as later podman keeps it.
      const data = Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, v.toString('base64')]));
      const { stringData: _s, ...object } = s.object;
      await createSecret(store, s.name, Buffer.from(JSON.stringify({ ...object, data })), { replace: opts.replace ?? false });
      made.secrets.push(s.name);
      report.secrets.push(s.name);
    }
    const volumeNames = new Set((await store.volumes()).map((v) => v.name));
    const ensure = async (name: string, labels: Record<string, string>, o: { anonymous?: boolean; driver?: string; options?: Record<string, string> } = {}) => {
      if (volumeNames.has(name)) return;
      if (o.driver && o.driver !== 'local') throw new BerthError('USAGE', `kube play: volume driver "${o.driver}" is not supported: only local`);
      await createVolume(store, name, {
        labels,
        ignoreIfExists: true,
        ...(o.anonymous ? { anonymous: true } : {}),
        ...(o.options ? { options: o.options } : {}),
      });
      volumeNames.add(name);
      made.volumes.push(name);
    };
    for (const claim of plan.claims) {
      await ensure(claim.name, claim.labels, { ...(claim.driver ? { driver: claim.driver } : {}), options: claim.options });
      report.volumes.push(claim.name);
    }
    for (const [i, m] of mapped.entries()) {
      const pod = pods[i]!;
      for (const v of m.volumes) {
        if (v.kind === 'claim') await ensure(v.name, {});
        else if (v.kind === 'emptyDir') await ensure(v.name, { [KUBE_VOLUME_LABEL]: 'emptyDir', [KUBE_POD_LABEL]: pod.name }, { anonymous: true });
        else await ensure(v.name, { [KUBE_VOLUME_LABEL]: v.kind });
        if (v.files) await fillVolume(store, v.name, v.files);
      }
      trace('kube play: volumes made');
      for (const sub of m.subPaths) await mkdir(join(volumeDataDir(store, sub.volume), sub.path), { recursive: true });
      // The pod's containers are made side by side (their records still one at a time, under the
      // store lock): all settled before a failure is handled, so the undo below finds every one made.
      const created = await settleAll(
        m.containers.map(({ pull: _p, ...create }) => createContainer(store, { ...create, pull: 'never', pod: pod.id, logDriver, warn })),
      );
      trace('kube play: members created');
      const ids = created.map((c) => c.id);
      report.pods.push({ id: pod.id, name: pod.name, containers: ids });
    }
  } catch (e) {
    // Nothing half made stays: the pods (their containers with them), the secrets and volumes this play made.
    await Promise.all(infraStarts);
    for (const id of made.pods) await removePod(store, id, { force: true, timeout: 0 }).catch(() => undefined);
    if (made.secrets.length) await removeSecrets(store, made.secrets).catch(() => undefined);
    if (made.volumes.length) await pruneVolumes(store, (v) => made.volumes.includes(v.name)).catch(() => undefined);
    throw e;
  }
  // Not awaited first: the members' start mounts their roots while the infra's start finishes.
  if (opts.start !== false) for (const p of report.pods) await startPod(store, p.id, warn);
  await Promise.all(infraStarts);
  return report;
}
