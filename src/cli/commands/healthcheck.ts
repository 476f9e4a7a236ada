import { checkHealth, getContainer } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { useSelfAsExitCommand } from './_self.js';

/**
 * `healthcheck run`: runs the container's healthcheck once, as podman does: nothing printed and
 * exit 0 when the check passed; `unhealthy` (or `starting`, inside the start period) and exit 1
 * when it failed, whatever the container's status after it. The timer passes
 * `--ignore-result`: only an error (the container gone or stopped) may end its loop.
 */
export async function run(g: GlobalOptions, name: string, f: { ignoreResult?: boolean }): Promise<number> {
  // A restart by --health-on-failure starts the container again: its exit command must be this CLI.
  useSelfAsExitCommand();
  return withStore(engineOptions(g), async (store) => {
    const c = await getContainer(store, name);
    const { verdict } = await checkHealth(store, c);
    if (f.ignoreResult || verdict === 'healthy') return 0;
    process.stdout.write(`${verdict}\n`);
    return 1;
  });
}
