import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { findPod, listPodRecords } from '../pods/records.js';
import { removePod, stopPod } from '../pods/lifecycle.js';
import { removeSecrets } from '../secrets/secrets.js';
import { pruneVolumes } from '../volumes/volumes.js';
import { planKube, type KubeSource } from './play-parse.js';
import { KUBE_POD_LABEL, KUBE_VOLUME_LABEL } from './play.js';

/**
 * `kube down`: what a kube file's play made goes again. Its pods are stopped and removed with their
 * containers, its Secrets removed (as podman 4.4+ does; 4.3 left them), and the volumes play made
 * to hold a configMap's or secret's files or an emptyDir, once no container uses them. Claims'
 * volumes stay, as podman keeps them: they hold the user's data.
 */

export interface KubeDownReport {
  stopped: string[];
  removed: string[];
  secrets: string[];
  volumes: string[];
}

export async function downKube(store: Store, source: KubeSource, opts: { timeout?: number; warn?: (message: string) => void } = {}): Promise<KubeDownReport> {
  // Warnings were given at play; the file is only read for its names here.
  const plan = planKube(source, [], () => undefined);
  const report: KubeDownReport = { stopped: [], removed: [], secrets: [], volumes: [] };
  const pods = await listPodRecords(store);
  const missing: string[] = [];
  const found = plan.pods.flatMap((p) => {
    const pod = findPod(pods, p.name);
    if (pod?.name !== p.name) {
      missing.push(p.name);
      return [];
    }
    return [pod];
  });
  // podman 4.3's kube down stops with a zero timeout: the pods are going anyway.
  const hooks = { timeout: opts.timeout ?? 0, ...(opts.warn ? { warn: opts.warn } : {}) };
  for (const pod of found) {
    await stopPod(store, pod.id, hooks);
    report.stopped.push(pod.id);
  }
  for (const pod of found) {
    await removePod(store, pod.id, { force: true, ...hooks });
    report.removed.push(pod.id);
  }
  const names = new Set(plan.secrets.map((s) => s.name));
  if (names.size) {
    const { removed } = await removeSecrets(store, [...names]);
    report.secrets = removed.map((s) => s.id);
  }
  const podNames = new Set(plan.pods.map((p) => p.name));
  const sourceVolumes = new Set(
    plan.pods.flatMap((p) =>
      (p.spec.volumes ?? []).flatMap((v) => (v.configMap?.name ? [v.configMap.name] : v.secret?.secretName ? [v.secret.secretName] : [])),
    ),
  );
  report.volumes = (
    await pruneVolumes(
      store,
      (v) =>
        (v.labels[KUBE_VOLUME_LABEL] === 'emptyDir' && podNames.has(v.labels[KUBE_POD_LABEL] ?? '')) ||
        ((v.labels[KUBE_VOLUME_LABEL] === 'configMap' || v.labels[KUBE_VOLUME_LABEL] === 'secret') && sourceVolumes.has(v.name)),
    )
  ).sort();
  if (missing.length) {
    const err = new BerthError('POD_UNKNOWN', `no pod with name or ID ${missing[0]} found: no such pod`);
    if (!found.length) throw err;
    opts.warn?.(err.message);
  }
  return report;
}
