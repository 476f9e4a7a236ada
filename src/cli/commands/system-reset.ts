import { pruneBuildCache } from '../../engine/build/index.js';
import { resolveStorePaths, withStore } from '../../engine/index.js';
import { resetStore, sweepDanglingLayerLinks } from '../../engine/system/index.js';
import { confirm } from '../confirm.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** podman's warning, with what berth removes: the records' contents, not the directories themselves. */
export function resetWarning(root: string, runRoot: string): string {
  return [
    'WARNING! This will remove:',
    '        - all containers',
    '        - all images',
    '        - all volumes',
    '        - all build cache',
    `        of the store in "${root}" (run root "${runRoot}")`,
  ].join('\n');
}

/**
 * `system reset`: the store back to empty. Containers are stopped and removed, then volumes,
 * images and the build cache; last, anything no record holds any more is swept. Only what lies
 * in this store's own files is touched: the root and run root themselves stay (berth's root may
 * be a directory the user also keeps other things in), and so does a registry's storage in it.
 */
export async function run(g: GlobalOptions, opts: { force?: boolean }): Promise<void> {
  const paths = await resolveStorePaths(engineOptions(g));
  if (!(await confirm('system reset', resetWarning(paths.root, paths.runRoot), opts))) return;
  await withStore(engineOptions(g), async (store) => {
    await resetStore(store);
    await pruneBuildCache(store, { all: true });
    await store.collectGarbage();
    await sweepDanglingLayerLinks(store);
  });
}
