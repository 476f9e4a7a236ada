import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../../store/store.js';
import { removeContainer } from '../containers/lifecycle.js';
import { syncContainers } from '../containers/state.js';
import { removeImages } from '../images/records.js';
import { removeVolumes } from '../volumes/volumes.js';
import { networkDefinitions, removeNetwork } from '../networks/networks.js';
import { DEFAULT_NETWORK } from '../../network/definitions.js';

/**
 * `system reset` (the engine's part): every container of this store, stopped and removed, then
 * every network, every volume, then every image, each through its own removal so that what goes is only what
 * this store's records name, under its own root and run root. The build cache is the caller's.
 */
export async function resetStore(store: Store): Promise<{ containers: number; volumes: number; images: number; networks: number }> {
  const containers = await syncContainers(store);
  // Every container goes, so a pod's infra may go before its members (and its pod with it).
  for (const c of containers) await removeContainer(store, c.id, { force: true, removingPod: true });
  // Every network of this store, the default one too (remade on first use), as podman's reset does.
  const networks = await networkDefinitions(store).list();
  for (const n of networks) await (n.name === DEFAULT_NETWORK ? networkDefinitions(store).remove(n.name) : removeNetwork(store, n.name, { force: true }));
  const volumes = await removeVolumes(
    store,
    (await store.volumes()).map((v) => v.name),
  );
  const { reports, failures } = await removeImages(store, [], { all: true, force: true });
  if (failures[0]) throw failures[0];
  return { containers: containers.length, volumes: volumes.length, images: reports.filter((r) => r.deleted).length, networks: networks.length };
}

/**
 * The short links under ROOT/l whose layer is gone: overlay mounts make them and nothing removes
 * them with the layer. Only links that point nowhere go; a live layer's link stays.
 */
export async function sweepDanglingLayerLinks(store: Store): Promise<void> {
  const dir = join(store.root, 'l');
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const link = join(dir, name);
      if (
        !(await stat(link).then(
          () => true,
          () => false,
        ))
      )
        await rm(link, { force: true });
    }),
  );
}
