import { loadImages, parsePlatform } from '../../engine/images/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { progressReporter } from '../progress.js';

export async function run(g: GlobalOptions, opts: { input?: string; quiet?: boolean; platform?: string }): Promise<void> {
  if (!opts.input && process.stdin.isTTY) throw new BerthError('USAGE', 'no archive given: use -i FILE or pipe one to stdin');
  const progress = await progressReporter(opts.quiet);
  const records = await withStore(engineOptions(g), (store) =>
    loadImages(store, opts.input ?? process.stdin, {
      ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}),
      ...(progress.sink ? { onProgress: progress.sink } : {}),
    }),
  ).finally(progress.stop);
  const lines = records.flatMap((r) => (r.names.length ? r.names : [r.id]).map((n) => `Loaded image: ${n}`));
  process.stdout.write(`${lines.join('\n')}\n`);
}
