import { stat } from 'node:fs/promises';
import type { ContainerConfig } from '../../oci/manifest.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import type { VolumeRecord } from '../../store/volumes.js';
import { BerthError } from '../../util/errors.js';
// Other nouns' modules directly, as engine/pods does: a face imported inside the engine is loaded whole by the bundle.
import { findContainer } from '../containers/lookup.js';
import { imageConfig } from '../images/records.js';
import { findPod, listPodRecords, type PodRecord } from '../pods/records.js';
import { findVolume } from '../volumes/volumes.js';
import type { ContainerSource, HostPathType } from './generate-container.js';
import { kubeDeployment, kubePod, kubeService, kubeVolumeClaim, randomNodePort, type GenerateContext, type PodSource } from './generate-pod.js';
import { kubeYaml } from './generate-yaml.js';

/** `kube generate`'s flags, as podman names them. */
export interface KubeGenerateOptions {
  /** `--service`: a NodePort Service for each Pod, ahead of the Pods. */
  service?: boolean;
  /** `--type`: pod (the default) or deployment. */
  type?: string;
  /** `--replicas`, for a Deployment. */
  replicas?: number;
  warn?: (message: string) => void;
}

const TYPES = ['pod', 'deployment'];

/** What each bind's source is now: a directory, a file, or nothing yet (the YAML then asks for a directory to be made). */
async function hostPaths(record: ContainerRecord): Promise<Record<string, HostPathType>> {
  const out: Record<string, HostPathType> = {};
  for (const m of record.config.mountSpecs) {
    if (m.type !== 'bind') continue;
    const info = await stat(m.source).catch(() => undefined);
    out[m.source] = info === undefined ? 'DirectoryOrCreate' : info.isDirectory() ? 'Directory' : 'File';
  }
  return out;
}

/** The names on the command line sorted out as podman does: a container, else a pod, else a volume. */
interface Targets {
  pods: PodRecord[];
  containers: ContainerRecord[];
  volumes: VolumeRecord[];
}

async function resolveTargets(store: Store, names: string[], containers: ContainerRecord[]): Promise<Targets> {
  const pods = await listPodRecords(store);
  const volumes = await store.volumes();
  const out: Targets = { pods: [], containers: [], volumes: [] };
  for (const name of names) {
    const c = findContainer(containers, name);
    if (c) {
      if (c.config.pod) throw new BerthError('USAGE', `container ${c.id} is associated with pod ${c.config.pod.id}: use generate on the pod itself`);
      out.containers.push(c);
      continue;
    }
    const pod = findPod(pods, name);
    if (pod) {
      out.pods.push(pod);
      continue;
    }
    const volume = findVolume(volumes, name);
    if (volume) {
      out.volumes.push(volume);
      continue;
    }
    throw new BerthError('USAGE', `name or ID "${name}" not found`);
  }
  return out;
}

/**
 * `kube generate`: Kubernetes YAML for the containers, pods and volumes named, as podman writes it:
 * each pod a Pod (or a Deployment), the containers named together one Pod `<first>-pod`, each
 * volume a PersistentVolumeClaim; with `--service` a Service per Pod. Claims come first, then
 * Services, then the Pods, in the order named (pods before the containers' Pod), as podman orders them.
 */
export async function generateKube(store: Store, names: string[], opts: KubeGenerateOptions = {}): Promise<string> {
  const type = opts.type ?? 'pod';
  if (!TYPES.includes(type)) throw new BerthError('USAGE', `invalid type given, only supported types are pod and deployment`);
  const replicas = opts.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1) throw new BerthError('USAGE', `--replicas must be a positive whole number`);
  if (replicas > 1 && type !== 'deployment') throw new BerthError('USAGE', '--replicas can only be set when --type is deployment');
  if (names.length === 0) throw new BerthError('USAGE', 'requires at least 1 arg(s), only received 0');
  const all = await store.containers();
  const targets = await resolveTargets(store, names, all);
  const images = await store.images();
  const configs = new Map<string, ContainerConfig | undefined>();
  const source = async (record: ContainerRecord): Promise<ContainerSource> => {
    if (!configs.has(record.image)) {
      const image = images.find((i) => i.id === record.image);
      configs.set(record.image, image ? ((await imageConfig(store, image)).config ?? {}) : undefined);
    }
    return { record, image: configs.get(record.image), hostPaths: await hostPaths(record) };
  };
  const oldestFirst = (a: ContainerRecord, b: ContainerRecord) => Date.parse(a.created) - Date.parse(b.created);

  const podSources: PodSource[] = [];
  for (const pod of targets.pods) {
    const inPod = all.filter((c) => c.config.pod?.id === pod.id);
    const members = inPod.filter((c) => !c.config.pod?.infra).sort(oldestFirst);
    if (inPod.length === 0) throw new BerthError('USAGE', `pod ${pod.id} has no containers`);
    if (members.length === 0) throw new BerthError('USAGE', `pod ${pod.id} only has an infra container`);
    const infra = inPod.find((c) => c.config.pod?.infra);
    podSources.push({ pod, ...(infra ? { infra } : {}), containers: await Promise.all(members.map(source)) });
  }
  if (targets.containers.length) podSources.push({ containers: await Promise.all(targets.containers.map(source)) });

  const ctx: GenerateContext = { now: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...(opts.warn ? { warn: opts.warn } : {}) };
  const pods = podSources.map((s) => kubePod(s, ctx));
  const claims = targets.volumes.map((v) => kubeVolumeClaim(v, ctx));
  const services = opts.service ? pods.map((p) => kubeService(p, randomNodePort)) : [];
  const workloads = type === 'deployment' ? pods.map((p) => kubeDeployment(p, replicas)) : pods;
  return kubeYaml([...claims, ...services, ...workloads]);
}
