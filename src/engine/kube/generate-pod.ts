import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Container, HostAlias, PersistentVolumeClaim, Pod, PodDNSConfig, PodSpec, Service, ServicePort, Volume } from 'kubernetes-types/core/v1.js';
import type { ContainerRecord, NameResolution } from '../../store/containers.js';
import type { VolumeRecord } from '../../store/volumes.js';
import { BerthError } from '../../util/errors.js';
import type { PodRecord } from '../pods/records.js';
import { containerPorts, kubeContainer, type ContainerSource, type KubeContainer } from './generate-container.js';
import { isKubeLabel, kubeName } from './names.js';

/**
 * What one Pod of the YAML is made from: a pod of berth's (its record, its infra container, its
 * other containers) or, without `pod`, containers named on the command line, grouped into a Pod of
 * their own as podman does.
 */
export interface PodSource {
  pod?: PodRecord;
  infra?: ContainerRecord;
  /** Oldest first, as podman orders a pod's containers. */
  containers: ContainerSource[];
}

export interface GenerateContext {
  /** creationTimestamp: when the YAML is made (podman's choice), not when the containers were. */
  now: string;
  /** Where a label Kubernetes would refuse is reported (it is left out). */
  warn?: (message: string) => void;
}

const RESTART_POLICIES: Record<ContainerRecord['config']['restartPolicy']['name'], string> = {
  always: 'Always',
  // Kubernetes has no "unless stopped": a container it stops is gone, so Always is the same thing there.
  'unless-stopped': 'Always',
  'on-failure': 'OnFailure',
  no: 'Never',
};

/** Labels Kubernetes accepts, in one map; the others are reported and left out. */
function kubeLabels(labels: Record<string, string>, ctx: GenerateContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (isKubeLabel(k, v)) out[k] = v;
    else ctx.warn?.(`label ${k}=${v} is not a valid Kubernetes label: left out of the YAML`);
  }
  return out;
}

/** A container's labels less its image's, which the container got from the image and will again. */
function ownLabels(src: ContainerSource): Record<string, string> {
  const fromImage = src.image?.Labels ?? {};
  return Object.fromEntries(Object.entries(src.record.config.labels).filter(([k, v]) => fromImage[k] !== v));
}

/**
 * The Pod's volumes, one per name: containers that mount the same host path or claim share it; a
 * name met again for something else (two containers' `tmp-0`, each its own tmpfs) is renamed for
 * its container, and that container's mounts follow.
 */
function podVolumes(members: KubeContainer[]): Volume[] {
  const byName = new Map<string, Volume>();
  for (const m of members) {
    for (const volume of m.volumes) {
      let name = volume.name;
      const shared = (v: Volume | undefined) => v !== undefined && v.emptyDir === undefined && JSON.stringify(v) === JSON.stringify({ ...volume, name });
      if (byName.has(name) && !shared(byName.get(name))) {
        const base = kubeName(`${m.container.name}-${volume.name}`);
        name = base;
        for (let i = 1; byName.has(name); i++) name = kubeName(`${base}-${i}`);
        for (const mount of m.container.volumeMounts ?? []) if (mount.name === volume.name) mount.name = name;
      }
      if (!byName.has(name)) byName.set(name, { ...volume, name });
    }
  }
  return [...byName.values()];
}

/** `--dns`, `--dns-search`, `--dns-option` as the Pod's dnsConfig; `k:v` options split as podman does. */
function dnsConfig(all: (NameResolution | undefined)[]): PodDNSConfig | undefined {
  const nameservers = [...new Set(all.flatMap((n) => n?.servers ?? []))];
  const searches = [...new Set(all.flatMap((n) => (n?.search ?? []).filter((s) => s !== '.')))];
  const options = all
    .flatMap((n) => n?.options ?? [])
    .map((o) => {
      const colon = o.indexOf(':');
      return colon === -1 ? { name: o } : { name: o.slice(0, colon), value: o.slice(colon + 1) };
    });
  if (!nameservers.length && !searches.length && !options.length) return undefined;
  return { ...(nameservers.length ? { nameservers } : {}), ...(searches.length ? { searches } : {}), ...(options.length ? { options } : {}) };
}

/** `--add-host` as hostAliases, one per line of /etc/hosts it made. */
function hostAliases(all: (NameResolution | undefined)[]): HostAlias[] {
  const seen = new Set<string>();
  const out: HostAlias[] = [];
  for (const { host, ip } of all.flatMap((n) => n?.extraHosts ?? [])) {
    if (seen.has(`${host} ${ip}`)) continue;
    seen.add(`${host} ${ip}`);
    out.push({ ip, hostnames: [host] });
  }
  return out;
}

/** The hostname the Pod gives its containers: a pod's own `--hostname`, or the first container's when it is not its ID's. */
function podHostname(src: PodSource): string | undefined {
  if (src.pod) return src.pod.hostname || undefined;
  return src.containers.map((c) => c.record).find((r) => !r.id.startsWith(r.config.hostname))?.config.hostname;
}

/** The Pod's name: the pod's, or for lone containers the first one's with `-pod`, as podman names it. */
export function podName(src: PodSource): string {
  if (src.pod) return kubeName(src.pod.name);
  const first = src.containers[0];
  if (!first) throw new BerthError('USAGE', 'no containers to generate a Pod from');
  return kubeName(`${first.record.name.replaceAll('_', '')}-pod`);
}

/**
 * One Pod as podman's `kube generate` writes it. A pod's ports are its infra container's, written
 * on its first container (a Pod has no ports of its own); its hostname, host aliases and DNS are
 * the infra's too. Containers grouped into a Pod bring their own.
 */
export function kubePod(src: PodSource, ctx: GenerateContext): Pod {
  const name = podName(src);
  const members = src.containers.map(kubeContainer);
  const sharesNet = src.pod !== undefined && src.infra !== undefined && src.pod.share.includes('net');
  if (sharesNet) {
    const ports = containerPorts(src.infra!);
    for (const [i, m] of members.entries()) {
      delete m.container.ports;
      if (i === 0 && ports.length) m.container.ports = ports;
    }
  }
  const netSources = sharesNet ? [src.infra!] : src.containers.map((c) => c.record);
  const resolution = netSources.map((r) => r.config.nameResolution);
  const labels = kubeLabels(src.pod ? src.pod.labels : Object.assign({}, ...src.containers.map(ownLabels)), ctx);
  const annotations: Record<string, string> = Object.assign({}, ...members.map((m) => m.annotations));
  const volumes = podVolumes(members);
  const spec: PodSpec = {
    containers: members.map((m) => m.container) as Container[],
    // podman's: the Pod does not see Kubernetes' service variables or an API token.
    enableServiceLinks: false,
    automountServiceAccountToken: false,
  };
  const hostname = podHostname(src);
  if (hostname) spec.hostname = hostname;
  const aliases = hostAliases(resolution);
  if (aliases.length) spec.hostAliases = aliases;
  const dns = dnsConfig(resolution);
  if (dns) spec.dnsConfig = dns;
  if (netSources.length && netSources.every((r) => r.config.network.mode === 'host')) spec.hostNetwork = true;
  if (src.pod?.share.includes('pid')) spec.shareProcessNamespace = true;
  const first = src.containers[0]?.record;
  if (first) spec.restartPolicy = RESTART_POLICIES[first.config.restartPolicy.name];
  if (volumes.length) spec.volumes = volumes;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      creationTimestamp: ctx.now,
      labels: { ...labels, app: name },
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec,
  };
}

/**
 * `--service`: a NodePort Service for the Pod, selecting it by its `app` label, one port per
 * container port (named after its number, as podman names them) on a node port of 30000-32767.
 */
export function kubeService(pod: Pod, pickNodePort: (used: Set<number>) => number): Service {
  const used = new Set<number>();
  const names = new Set<string>();
  const ports: ServicePort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      const nodePort = pickNodePort(used);
      used.add(nodePort);
      // Names must differ within a Service: the same number over TCP and UDP gets the protocol after it.
      let portName = String(p.containerPort);
      if (names.has(portName)) portName = `${portName}-${(p.protocol ?? 'TCP').toLowerCase()}`;
      names.add(portName);
      ports.push({ name: portName, port: p.containerPort, targetPort: p.containerPort, nodePort, ...(p.protocol ? { protocol: p.protocol } : {}) });
    }
  }
  const { name, labels, creationTimestamp } = pod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...(name ? { name } : {}), ...(creationTimestamp ? { creationTimestamp } : {}), ...(labels ? { labels } : {}) },
    spec: { ...(ports.length ? { ports } : {}), selector: { app: labels?.app ?? '' }, type: 'NodePort' },
  };
}

/** A random node port in Kubernetes' range that the Service does not use yet. */
export function randomNodePort(used: Set<number>): number {
  for (;;) {
    const port = 30000 + Math.floor(Math.random() * (32767 - 30000 + 1));
    if (!used.has(port)) return port;
  }
}

/**
 * `--type deployment`: the Pod as the template of a Deployment named `<pod>-deployment`, selected
 * by its `app` label; replicas written only above 1 (Kubernetes' default), as podman does. A
 * Deployment restarts its containers always: on-failure is refused as podman refuses it, and berth's
 * default of no restart policy is left to the Deployment's Always.
 */
export function kubeDeployment(pod: Pod, replicas: number): Deployment {
  const spec = { ...pod.spec! };
  if (spec.restartPolicy === 'OnFailure') throw new BerthError('USAGE', 'k8s Deployments can only have restartPolicy set to Always');
  if (spec.restartPolicy === 'Never') delete spec.restartPolicy;
  const { name = '', labels = {}, creationTimestamp } = pod.metadata ?? {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${name}-deployment`, ...(creationTimestamp ? { creationTimestamp } : {}), labels },
    spec: {
      ...(replicas > 1 ? { replicas } : {}),
      selector: { matchLabels: { app: labels.app ?? name } },
      template: { metadata: pod.metadata!, spec },
    },
  };
}

/** podman's annotations for a volume's driver and options, which its `kube play` reads back. */
const VOLUME_OPTION_ANNOTATIONS: Record<string, string> = {
  o: 'volume.podman.io/mount-options',
  device: 'volume.podman.io/device',
  type: 'volume.podman.io/type',
  UID: 'volume.podman.io/uid',
  GID: 'volume.podman.io/gid',
};

/** A named volume as the PersistentVolumeClaim podman writes for it: 1Gi, ReadWriteOnce, its driver and options as annotations. */
export function kubeVolumeClaim(volume: VolumeRecord, ctx: GenerateContext): PersistentVolumeClaim {
  const annotations: Record<string, string> = { 'volume.podman.io/driver': 'local' };
  for (const [k, v] of Object.entries(volume.options)) {
    const key = VOLUME_OPTION_ANNOTATIONS[k];
    if (key) annotations[key] = v;
  }
  const labels = kubeLabels(volume.labels, ctx);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: volume.name,
      creationTimestamp: ctx.now,
      ...(Object.keys(labels).length ? { labels } : {}),
      annotations,
    },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  };
}
