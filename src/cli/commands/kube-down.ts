import { downKube, withStore } from '../../engine/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { readKubeFile, warn } from './kube-play.js';

/** podman's report: the pods stopped, then removed, then (as podman 4.4+) the secrets and volumes. */
export async function runDown(g: GlobalOptions, file: string): Promise<void> {
  const source = await readKubeFile(file);
  await withStore(engineOptions(g), async (store) => {
    const r = await downKube(store, source, { warn });
    const out: string[] = [];
    const section = (title: string, items: string[]) => items.length && out.push(title, ...items);
    section('Pods stopped:', r.stopped);
    section('Pods removed:', r.removed);
    section('Secrets removed:', r.secrets);
    section('Volumes removed:', r.volumes);
    if (out.length) process.stdout.write(`${out.join('\n')}\n`);
  });
}
