import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { parseAllDocuments } from 'yaml';
import { BerthError } from '../../util/errors.js';
import { checkFields, docLabel, fieldError, KINDS } from './play-schema.js';

/**
 * A kube file read whole and checked before anything is made: its documents parsed (several per
 * file, `---` apart), each of a kind berth plays checked against play-schema's fields, and the
 * references between them (a pod's ConfigMap, Secret, volume names) resolved or refused.
 */

/** A pod to create: a Pod document, or one of a Deployment's replicas, or a DaemonSet's one pod. */
export interface PlannedPod {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpec;
  /** `document 2 (Pod "web")`, for messages. */
  where: string;
  /** The spec's path in its document (`spec`, or `spec.template.spec`). */
  specPath: string;
}

export interface PlannedSecret {
  name: string;
  /** Each key's bytes: `data` decoded from base64, `stringData` over it (Kubernetes' rule). */
  data: Record<string, Buffer>;
  /** The document itself, as the secret's stored data (podman keeps the Secret object). */
  object: Record<string, unknown>;
}

export interface PlannedClaim {
  name: string;
  labels: Record<string, string>;
  /** podman's `volume.podman.io/driver` and `volume.podman.io/<option>` annotations. */
  driver?: string;
  options: Record<string, string>;
}

export interface KubePlan {
  pods: PlannedPod[];
  configMaps: Map<string, Record<string, Buffer>>;
  secrets: PlannedSecret[];
  claims: PlannedClaim[];
}

/** One source of YAML: the kube file, or a `--configmap` file (only ConfigMaps are taken from those). */
export interface KubeSource {
  text: string;
  /** Named in messages when it is not the kube file itself. */
  label?: string;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A ConfigMap's or Secret's key, as Kubernetes allows it (letters, digits, `-`, `_`, `.`; not `.` or
 * `..`): each key becomes a file's name in a volume, so it must not name a path.
 */
function dataKey(key: string, where: string, field: string): string {
  if (!/^[-._a-zA-Z0-9]+$/.test(key) || key === '.' || key === '..' || key.length > 253)
    throw fieldError(where, `${field}.${key}`, "a valid key must consist of alphanumeric characters, '-', '_' or '.' (and be neither '.' nor '..')");
  return key;
}
/** The objects of a YAML stream: a syntax error names the document and its line. */
export function parseKubeYaml(text: string, label = ''): { index: number; object: Record<string, unknown> }[] {
  // YAML 1.1, as Kubernetes' and podman's go-yaml reads it (`mode: 0600` is octal there); prettyErrors:
  // each message ends with the line and column (`... at line 3, column 5:`).
  const docs = parseAllDocuments(text, { version: '1.1', prettyErrors: true });
  if (!Array.isArray(docs)) return [];
  const out: { index: number; object: Record<string, unknown> }[] = [];
  docs.forEach((doc, index) => {
    const prefix = `kube play: ${label}${docLabel(index)}`;
    const err = doc.errors[0];
    if (err) throw new BerthError('USAGE', `${prefix}: invalid YAML: ${err.message.split('\n')[0]!.replace(/:$/, '')}`);
    const object = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (object === null || object === undefined) return; // an empty document (a trailing `---`)
    if (!isMap(object))
      throw new BerthError(
        'USAGE',
        `${prefix}: expected a Kubernetes object (a map with kind and apiVersion), got ${Array.isArray(object) ? 'a list' : typeof object}`,
      );
    out.push({ index, object });
  });
  return out;
}

function decodeBase64(value: string, where: string, path: string): Buffer {
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) throw fieldError(where, path, 'illegal base64 data');
  return Buffer.from(compact, 'base64');
}

/**
 * The plan for a kube file and its `--configmap` files. Warnings (unknown kinds and fields) go to
 * `warn`, one each; the first error throws, and nothing has been made yet.
 */
export function planKube(main: KubeSource, configMapFiles: readonly KubeSource[], warn: (message: string) => void): KubePlan {
  const plan: KubePlan = { pods: [], configMaps: new Map(), secrets: [], claims: [] };
  const sources = [{ ...main, extra: false }, ...configMapFiles.map((s) => ({ ...s, extra: true }))];
  for (const source of sources) {
    const label = source.label ? `${source.label}: ` : '';
    for (const { index, object } of parseKubeYaml(source.text, label)) {
      const kind = typeof object.kind === 'string' ? object.kind : undefined;
      const meta = isMap(object.metadata) ? object.metadata : {};
      const name = typeof meta.name === 'string' ? meta.name : undefined;
      const where = `${label}${docLabel(index, kind, name)}`;
      if (!kind) throw fieldError(where, 'kind', 'required field missing');
      if (typeof object.apiVersion !== 'string')
        throw fieldError(where, 'apiVersion', object.apiVersion === undefined ? 'required field missing' : 'expected a string');
      const fields = KINDS[kind];
      if (!fields || (source.extra && kind !== 'ConfigMap')) {
        warn(`${where}: kind ${kind} is not supported${source.extra ? ' in a --configmap file' : ''}: ignored`);
        continue;
      }
      const { apiVersion: _a, kind: _k, status: _s, ...rest } = object;
      checkFields(rest, fields, where, warn);
      if (!name) throw fieldError(where, 'metadata.name', 'required field missing');
      addToPlan(plan, kind, name, rest, where);
    }
  }
  checkReferences(plan);
  return plan;
}

// biome-ignore lint/suspicious/noExplicitAny: the document passed play-schema's check, which is what types its fields
function addToPlan(plan: KubePlan, kind: string, name: string, object: Record<string, any>, where: string): void {
  const labels = (object.metadata.labels ?? {}) as Record<string, string>;
  const annotations = (object.metadata.annotations ?? {}) as Record<string, string>;
  /** A pod of a Deployment's or DaemonSet's template: its own labels, or the object's; both's annotations. */
  const templatePod = (podName: string): PlannedPod => {
    const template = object.spec.template;
    return {
      name: podName,
      labels: template.metadata?.labels ?? labels,
      annotations: { ...annotations, ...(template.metadata?.annotations ?? {}) },
      spec: template.spec as PodSpec,
      where,
      specPath: 'spec.template.spec',
    };
  };
  switch (kind) {
    case 'Pod':
      plan.pods.push({ name, labels, annotations, spec: object.spec as PodSpec, where, specPath: 'spec' });
      return;
    case 'Deployment': {
      // podman 4.3 plays every replica, each a pod named <name>-pod-<i> (later versions play one).
      const replicas = (object.spec.replicas as number | undefined) ?? 1;
      if (replicas < 0) throw fieldError(where, 'spec.replicas', 'must not be negative');
      for (let i = 0; i < replicas; i++) plan.pods.push(templatePod(`${name}-pod-${i}`));
      return;
    }
    case 'DaemonSet':
      // One node here: one pod, named as podman names a DaemonSet's.
      plan.pods.push(templatePod(`${name}-pod`));
      return;
    case 'ConfigMap': {
      const data: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries((object.data ?? {}) as Record<string, string | null>)) data[dataKey(k, where, 'data')] = Buffer.from(v ?? '');
      for (const [k, v] of Object.entries((object.binaryData ?? {}) as Record<string, string | null>))
        data[dataKey(k, where, 'binaryData')] = decodeBase64(v ?? '', where, `binaryData.${k}`);
      plan.configMaps.set(name, data);
      return;
    }
    case 'Secret': {
      const data: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries((object.data ?? {}) as Record<string, string | null>))
        data[dataKey(k, where, 'data')] = decodeBase64(v ?? '', where, `data.${k}`);
      for (const [k, v] of Object.entries((object.stringData ?? {}) as Record<string, string | null>))
        data[dataKey(k, where, 'stringData')] = Buffer.from(v ?? '');
      if (plan.secrets.some((s) => s.name === name)) throw fieldError(where, 'metadata.name', `a Secret named "${name}" is already in the file`);
      plan.secrets.push({ name, data, object: { apiVersion: 'v1', kind: 'Secret', ...object } });
      return;
    }
    case 'PersistentVolumeClaim': {
      const options: Record<string, string> = {};
      let driver: string | undefined;
      for (const [k, v] of Object.entries(annotations)) {
        if (!k.startsWith('volume.podman.io/')) continue;
        const key = k.slice('volume.podman.io/'.length);
        if (key === 'driver') driver = v;
        else options[key] = v;
      }
      plan.claims.push({ name, labels, ...(driver ? { driver } : {}), options });
      return;
    }
  }
}

/** Two pods of one name, a volume mount naming no volume, a volume of no source: errors before anything is made. */
function checkReferences(plan: KubePlan): void {
  const seen = new Set<string>();
  for (const pod of plan.pods) {
    if (seen.has(pod.name)) throw fieldError(pod.where, 'metadata.name', `a pod named "${pod.name}" is already in the file`);
    seen.add(pod.name);
    const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
    (pod.spec.volumes ?? []).forEach((v, i) => {
      const sources = (['hostPath', 'persistentVolumeClaim', 'emptyDir', 'configMap', 'secret'] as const).filter((s) => v[s] !== undefined && v[s] !== null);
      if (sources.length === 0)
        throw fieldError(
          pod.where,
          `${pod.specPath}.volumes[${i}]`,
          `volume "${v.name}" has no source berth supports (hostPath, persistentVolumeClaim, emptyDir, configMap, secret)`,
        );
      if (sources.length > 1)
        throw fieldError(pod.where, `${pod.specPath}.volumes[${i}]`, `volume "${v.name}" has more than one source: ${sources.join(', ')}`);
    });
    const names = new Set<string>();
    pod.spec.containers.forEach((c, ci) => {
      const at = `${pod.specPath}.containers[${ci}]`;
      if (names.has(c.name)) throw fieldError(pod.where, `${at}.name`, `a container named "${c.name}" is already in the pod`);
      names.add(c.name);
      (c.volumeMounts ?? []).forEach((m, mi) => {
        if (!volumes.has(m.name)) throw fieldError(pod.where, `${at}.volumeMounts[${mi}].name`, `no volume named "${m.name}" in ${pod.specPath}.volumes`);
        if (!m.mountPath.startsWith('/')) throw fieldError(pod.where, `${at}.volumeMounts[${mi}].mountPath`, `must be an absolute path: ${m.mountPath}`);
        if (m.subPath && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..')))
          throw fieldError(pod.where, `${at}.volumeMounts[${mi}].subPath`, `must be a relative path inside the volume: ${m.subPath}`);
      });
      (c.ports ?? []).forEach((p, pi) => {
        const bad = (n: number | undefined) => n !== undefined && (n < 1 || n > 65535);
        if (bad(p.containerPort)) throw fieldError(pod.where, `${at}.ports[${pi}].containerPort`, `port out of range: ${p.containerPort}`);
        if (bad(p.hostPort)) throw fieldError(pod.where, `${at}.ports[${pi}].hostPort`, `port out of range: ${p.hostPort}`);
      });
    });
  }
}
