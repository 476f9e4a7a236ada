import { createContainer, removeContainer } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { createOptions, type CreateFlags } from './_create-opts.js';
import { refuseCreateAttach } from './_create-refusals.js';
import { useSelfAsExitCommand } from './_self.js';

/** `berth create IMAGE [COMMAND...]`: prints the new container's ID. */
export async function run(g: GlobalOptions, image: string, command: string[], f: CreateFlags): Promise<void> {
  useSelfAsExitCommand();
  refuseCreateAttach(f);
  await withStore(engineOptions(g), async (store) => {
    const c = await createContainer(store, createOptions(image, command, { ...f, runtime: f.runtime ?? g.runtime }), (id) =>
      removeContainer(store, id, { force: true }).then(() => undefined),
    );
    process.stdout.write(`${c.id}\n`);
  });
}
