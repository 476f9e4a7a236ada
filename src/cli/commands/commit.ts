import { commitContainer } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';

interface CommitFlags {
  change: string[];
  message?: string;
  author?: string;
  pause?: boolean | string;
  format: 'oci' | 'docker';
  quiet?: boolean;
}

/** `berth commit CONTAINER [IMAGE]`: prints the new image's ID, as podman does. */
export async function run(g: GlobalOptions, container: string, image: string | undefined, f: CommitFlags): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    if (!f.quiet) process.stderr.write('Getting image source signatures\n');
    const record = await commitContainer(store, container, image, {
      changes: f.change,
      format: f.format,
      // Unsaid, the engine's default: pause where the container has a cgroup to freeze.
      ...(f.pause === undefined ? {} : { pause: f.pause !== false && f.pause !== 'false' }),
      ...(f.message ? { message: f.message } : {}),
      ...(f.author ? { author: f.author } : {}),
    });
    if (!f.quiet) process.stderr.write('Writing manifest to image destination\n');
    process.stdout.write(`${record.id.replace(/^sha256:/, '')}\n`);
  });
}
