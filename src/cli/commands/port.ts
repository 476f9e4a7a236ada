import { getContainer, latestContainer, portCommandLines, publishedPorts, syncContainers } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/**
 * `port CONTAINER [PORT]`: podman's lines (`80/tcp -> 0.0.0.0:8080`, or just `0.0.0.0:8080` for
 * one port); with --all every running container's, each line after its short ID and a tab.
 */
export async function run(g: GlobalOptions, container: string | undefined, port: string | undefined, f: { all?: boolean; latest?: boolean }): Promise<void> {
  if (f.all && f.latest) throw new BerthError('USAGE', '--all and --latest cannot be used together');
  if (f.all && container !== undefined && port === undefined) {
    // With --all the one argument is the port.
    port = container;
    container = undefined;
  }
  if (!f.all && !f.latest && container === undefined) throw new BerthError('USAGE', 'you must supply a running container name or id');
  if (f.latest && container !== undefined && port === undefined) {
    port = container;
    container = undefined;
  }
  await withStore(engineOptions(g), async (store) => {
    if (f.all) {
      const running = (await syncContainers(store)).filter((c) => c.state.status === 'running');
      for (const c of running) {
        const ports = publishedPorts(c);
        if (!ports.length) continue;
        process.stdout.write(
          portCommandLines(ports, port)
            .map((l) => `${c.id.slice(0, 12)}\t${l}\n`)
            .join(''),
        );
      }
      return;
    }
    const c = f.latest ? latestContainer(await store.containers()) : await getContainer(store, container!);
    const current = await getContainer(store, c.id);
    if (current.state.status !== 'running') throw new BerthError('CONTAINER_STATE', `container ${current.id} is not running`);
    process.stdout.write(
      portCommandLines(publishedPorts(current), port)
        .map((l) => `${l}\n`)
        .join(''),
    );
  });
}
