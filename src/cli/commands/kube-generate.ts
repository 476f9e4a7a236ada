import { writeFile } from 'node:fs/promises';
import { withStore } from '../../engine/index.js';
import { generateKube } from '../../engine/kube/index.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { engineOptions, systemErrorText, type GlobalOptions } from '../context.js';
import { log } from '../log.js';

/** `--replicas N`: pflag's int32, with its words for what is not one. */
function replicasFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim()))
    throw new BerthError('USAGE', `invalid argument "${value}" for "-r, --replicas" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}

/**
 * `berth kube generate` (and `generate kube`): the YAML on stdout, or in a new file with `-f`.
 * podman refuses to write over a file that is there, and so does this (the file is created
 * exclusively, so a file that appears meanwhile is not overwritten either).
 */
export async function run(g: GlobalOptions, names: string[], f: { service?: boolean; type?: string; filename?: string; replicas?: string }): Promise<void> {
  const replicas = replicasFlag(f.replicas);
  const yaml = await withStore(engineOptions(g), (store) =>
    generateKube(store, names, {
      ...(f.service ? { service: true } : {}),
      ...(f.type !== undefined ? { type: f.type } : {}),
      ...(replicas !== undefined ? { replicas } : {}),
      warn: (message) => log('warn', message),
    }),
  );
  if (f.filename === undefined) {
    // podman prints the YAML and then a newline of its own.
    process.stdout.write(`${yaml}\n`);
    return;
  }
  try {
    await writeFile(f.filename, yaml, { flag: 'wx', mode: 0o644 });
  } catch (e) {
    const where = `cannot write to ${JSON.stringify(f.filename)}`;
    if (errnoCode(e) === 'EEXIST') throw new BerthError('USAGE', `${where}; file exists`, { cause: e });
    throw new BerthError('USAGE', `${where}: ${systemErrorText(e as NodeJS.ErrnoException)}`, { cause: e });
  }
}
