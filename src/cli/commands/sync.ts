import { readFile } from 'node:fs/promises';
import { withStore } from '../../engine/index.js';
import { parseNormalizedNamed, parseSyncYaml, syncImages, type SyncOptions, type SyncSource } from '../../engine/images/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { endRegistryOptions, type TwoEndedRegistryFlags } from './_registry-opts.js';

interface SyncFlags extends TwoEndedRegistryFlags {
  policy?: string;
  'registries.d'?: string;
  src: string;
  dest: string;
  scoped?: boolean;
  preserveDigests?: boolean;
  removeSignatures?: boolean;
  all?: boolean;
  quiet?: boolean;
}

/**
 * `berth sync --src docker|yaml --dest docker|oci SOURCE DESTINATION`: skopeo sync. SOURCE is a
 * repository (every tag), a repository:tag, or (yaml) skopeo's sync file. With `--dest oci` each
 * repository becomes an OCI layout under DESTINATION, its tags as ref names (skopeo writes dir: trees).
 */
export async function run(g: GlobalOptions, source: string, destination: string, f: SyncFlags): Promise<void> {
  if (!['docker', 'yaml'].includes(f.src)) throw new BerthError('USAGE', `--src ${f.src}: use docker or yaml`);
  if (!['docker', 'oci', 'dir'].includes(f.dest)) throw new BerthError('USAGE', `--dest ${f.dest}: use docker, oci or dir`);
  const srcOptions = endRegistryOptions(f, 'src');
  const destOptions = endRegistryOptions(f, 'dest');
  let sources: SyncSource[];
  if (f.src === 'yaml') {
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (e) {
      throw new BerthError('USAGE', `reading ${source}: ${(e as Error).message}`, { cause: e });
    }
    sources = parseSyncYaml(text, srcOptions);
  } else {
    sources = [{ ref: parseNormalizedNamed(source.replace(/^docker:\/\//, '')), options: srcOptions }];
  }
  await withStore(engineOptions(g), async (store) => {
    const count = await syncImages(store, sources, {
      destination: destination.replace(/^docker:\/\//, ''),
      destKind: f.dest as SyncOptions['destKind'],
      destOptions,
      ...(f.scoped ? { scoped: true } : {}),
      ...(f.preserveDigests ? { preserveDigests: true } : {}),
      ...(f.removeSignatures ? { removeSignatures: true } : {}),
      ...(f.all ? { multiArch: 'all' as const } : {}),
      trust: {
        ...(f.policy !== undefined ? { signaturePolicy: f.policy } : {}),
        ...(f['registries.d'] !== undefined ? { registriesDir: f['registries.d'] } : {}),
      },
      ...(f.quiet ? {} : { onImage: (from: string, to: string) => process.stderr.write(`Copied ${from} to ${to}\n`) }),
    });
    if (!f.quiet) process.stderr.write(`Synced ${count} image${count === 1 ? '' : 's'}\n`);
  });
}
