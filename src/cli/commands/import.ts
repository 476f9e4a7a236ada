import { hostPlatform, importImage } from '../../engine/images/index.js';
import { withStore } from '../../engine/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { progressReporter } from '../progress.js';

interface ImportOptions {
  change: string[];
  message?: string;
  os?: string;
  arch?: string;
  variant?: string;
  quiet?: boolean;
}

export async function run(g: GlobalOptions, path: string, reference: string | undefined, opts: ImportOptions): Promise<void> {
  const host = hostPlatform();
  const platform = {
    os: opts.os ?? host.os,
    architecture: opts.arch ?? host.architecture,
    ...(opts.variant ? { variant: opts.variant } : opts.arch ? {} : host.variant ? { variant: host.variant } : {}),
  };
  const progress = await progressReporter(opts.quiet);
  const record = await withStore(engineOptions(g), (store) =>
    importImage(store, path === '-' ? process.stdin : path, reference, {
      changes: opts.change,
      ...(opts.message ? { message: opts.message } : {}),
      platform,
      ...(progress.sink ? { onProgress: progress.sink } : {}),
    }),
  ).finally(progress.stop);
  process.stdout.write(`${record.id}\n`);
}
