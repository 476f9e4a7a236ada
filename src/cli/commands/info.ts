import { cpus, hostname, release, totalmem, freemem } from 'node:os';
import { withStore } from '../../engine/engine.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { versionInfo } from './version.js';

export async function run(g: GlobalOptions, opts: { format?: string }): Promise<void> {
  const info = await withStore(engineOptions(g), async (store) => {
    const images = await store.images();
    return {
      host: {
        arch: process.arch === 'x64' ? 'amd64' : process.arch,
        os: process.platform,
        hostname: hostname(),
        kernel: release(),
        cpus: cpus().length,
        memTotal: totalmem(),
        memFree: freemem(),
        rootless: process.getuid?.() !== 0,
      },
      store: {
        graphDriverName: 'overlay',
        graphRoot: store.root,
        runRoot: store.runRoot,
        imageStore: { number: images.length },
        containerStore: { number: 0, paused: 0, running: 0, stopped: 0 },
      },
      version: versionInfo(),
    };
  });
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify(info, null, 4)}\n`);
  } else if (opts.format) {
    const { formatOutput } = await import('../output/format.js');
    process.stdout.write(formatOutput(opts.format, [info], { defaultTable: '', headers: {} }));
  } else {
    const { stringify } = await import('yaml');
    process.stdout.write(stringify(info));
  }
}
