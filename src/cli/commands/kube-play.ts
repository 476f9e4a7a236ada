import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { playKube, withStore, type KubeSource } from '../../engine/index.js';
import { useSelfAsExitCommand } from './_self.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { readStdin } from './_stdin.js';

/** Unknown kinds and fields: one `Warning:` line each, on stderr. */
export const warn = (message: string) => process.stderr.write(`Warning: ${message}\n`);

/** The kube file's text: a path, or `-` for stdin. */
export async function readKubeFile(file: string, label?: string): Promise<KubeSource> {
  try {
    const text = file === '-' ? (await readStdin()).toString('utf8') : await readFile(file, 'utf8');
    return { text, ...(label ? { label } : {}) };
  } catch (e) {
    throw new BerthError(
      'USAGE',
      `kube play: reading ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`,
      { cause: e },
    );
  }
}

export async function runPlay(
  g: GlobalOptions,
  file: string,
  f: {
    build?: boolean;
    contextDir?: string;
    network: string[];
    replace?: boolean;
    start?: boolean;
    configmap: string[];
    logDriver?: string;
    quiet?: boolean;
    down?: boolean;
  },
): Promise<void> {
  if (f.down) return (await import('./kube-down.js')).runDown(g, file);
  // The containers it starts are cleaned up by a call back to this same berth (not the one on PATH).
  useSelfAsExitCommand();
  const source = await readKubeFile(file);
  const configMapFiles = await Promise.all(
    f.configmap
      .flatMap((v) => v.split(','))
      .filter((v) => v)
      .map((p) => readKubeFile(p, p)),
  );
  await withStore(engineOptions(g), async (store) => {
    const r = await playKube(store, source, {
      ...(f.build ? { build: true } : {}),
      contextDir: f.contextDir ?? (file === '-' ? process.cwd() : dirname(resolve(file))),
      network: f.network,
      ...(f.replace ? { replace: true } : {}),
      ...(f.start === false ? { start: false } : {}),
      configMapFiles,
      ...(f.logDriver !== undefined ? { logDriver: f.logDriver } : {}),
      createCommand: ['berth', ...process.argv.slice(2)],
      warn,
      ...(f.quiet ? {} : { onPull: (name: string) => process.stderr.write(`Resolving "${name}"...\n`), buildOut: (t: string) => process.stderr.write(t) }),
    });
    // podman's report: the claims' volumes, then each pod with its containers.
    const out: string[] = [];
    if (r.volumes.length) out.push('Volumes:', ...r.volumes);
    for (const p of r.pods) {
      out.push('Pod:', p.id);
      if (p.containers.length) out.push(p.containers.length === 1 ? 'Container:' : 'Containers:', ...p.containers);
      out.push('');
    }
    if (out.length) process.stdout.write(`${out.join('\n')}\n`);
  });
}
