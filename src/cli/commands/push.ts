import { writeFile } from 'node:fs/promises';
import { withStore } from '../../engine/engine.js';
import { pushImage, type PushFormat } from '../../transports/docker/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { progressReporter } from '../progress.js';
import { registryOptions, type RegistryFlags } from './_registry-opts.js';

export interface PushFlags extends RegistryFlags {
  format?: string;
  digestfile?: string;
  quiet?: boolean;
  removeSignatures?: boolean;
}

function pushFormat(f: string | undefined): PushFormat | undefined {
  if (f === undefined) return undefined;
  if (f === 'oci') return 'oci';
  if (f === 'v2s2' || f === 'docker') return 'v2s2';
  if (f === 'v2s1') throw new BerthError('USAGE', 'the v2s1 (Docker schema 1) format is not supported: use oci or v2s2');
  throw new BerthError('USAGE', `unknown manifest format ${JSON.stringify(f)}: use oci or v2s2`);
}

/** `berth push IMAGE [DEST]`: podman's progress lines on stderr; `--digestfile` gets the manifest digest. */
export async function run(g: GlobalOptions, image: string, dest: string | undefined, opts: PushFlags): Promise<void> {
  const format = pushFormat(opts.format);
  const progress = await progressReporter(opts.quiet);
  if (!opts.quiet) process.stderr.write('Getting image source signatures\n');
  const { digest } = await withStore(engineOptions(g), (store) =>
    pushImage(store, image, dest, {
      ...registryOptions(opts),
      ...(format ? { format } : {}),
      ...(progress.sink ? { onProgress: progress.sink } : {}),
    }),
  ).finally(progress.stop);
  if (opts.digestfile) await writeFile(opts.digestfile, digest);
}
