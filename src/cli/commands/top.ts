import { containerTop, DEFAULT_TOP_DESCRIPTORS } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** `berth top CONTAINER [descriptors]`: podman's AIX-format descriptors (user pid ppid pcpu etime tty time args comm). */
export async function run(g: GlobalOptions, name: string, descriptors: string[]): Promise<void> {
  const wanted = descriptors.length ? descriptors.flatMap((d) => d.split(',')) : DEFAULT_TOP_DESCRIPTORS;
  await withStore(engineOptions(g), async (store) => {
    const { titles, processes } = await containerTop(store, name, wanted);
    const rows = [titles, ...processes];
    const widths = wanted.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 4))).join('')).join('\n') + '\n');
  });
}
