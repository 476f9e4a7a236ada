import { containerTop, DEFAULT_TOP_DESCRIPTORS, execInContainer, isTopDescriptorList, processStdio } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/**
 * `berth top CONTAINER [descriptors]`: podman's AIX-format descriptors (user pid ppid pcpu etime
 * tty time args comm), read from /proc. ps(1)'s own options instead (`-eo pid,comm`) run the
 * container's ps with them, as podman does; its exit code is top's.
 */
export async function run(g: GlobalOptions, name: string, descriptors: string[]): Promise<number | void> {
  return withStore(engineOptions(g), async (store) => {
    if (!isTopDescriptorList(descriptors)) {
      const ps = await execInContainer(store, name, ['ps', ...descriptors], { env: [], envFile: [], io: processStdio() });
      return ps.exitCode;
    }
    const wanted = descriptors.length ? descriptors.flatMap((d) => d.split(',')).filter(Boolean) : DEFAULT_TOP_DESCRIPTORS;
    const { titles, processes } = await containerTop(store, name, wanted);
    const rows = [titles, ...processes];
    const widths = wanted.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 4))).join('')).join('\n') + '\n');
  });
}
