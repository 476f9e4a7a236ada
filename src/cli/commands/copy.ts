import { writeFile } from 'node:fs/promises';
import { copyImage } from '../../engine/copy.js';
import { withStore } from '../../engine/engine.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { endRegistryOptions, type TwoEndedRegistryFlags } from './_registry-opts.js';

interface CopyFlags extends TwoEndedRegistryFlags {
  preserveDigests?: boolean;
  digestfile?: string;
  quiet?: boolean;
}

/** `berth copy SRC DST`: skopeo copy between docker://, oci:, oci-archive:, docker-archive: and berth:. */
export async function run(g: GlobalOptions, from: string, to: string, f: CopyFlags): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    if (!f.quiet) process.stderr.write('Getting image source signatures\n');
    const digest = await copyImage(store, from, to, {
      source: endRegistryOptions(f, 'src'),
      dest: endRegistryOptions(f, 'dest'),
      ...(f.preserveDigests ? { preserveDigests: true } : {}),
    });
    if (!f.quiet) process.stderr.write('Writing manifest to image destination\n');
    if (f.digestfile) await writeFile(f.digestfile, digest);
  });
}
