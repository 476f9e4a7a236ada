import { writeFile } from 'node:fs/promises';
import { buildImage } from '../../build/index.js';
import { withStore } from '../../engine/engine.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { useSelfAsExitCommand } from './_self.js';

interface BuildFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  label: string[];
  iidfile?: string;
  format: string;
  cache?: boolean;
  target?: string;
  quiet?: boolean;
  network?: string;
  timestamp?: string;
  sourceDateEpoch?: string;
}

/** Seconds since the epoch, as --timestamp and SOURCE_DATE_EPOCH take them. */
function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new BerthError('USAGE', `${flag}: "${value}" is not a number of seconds since the epoch`);
  return Number(value);
}

/** `--build-arg K=V`, or a bare `K` taking the caller's value (and ignored when it has none), as podman does. */
function buildArgs(list: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq >= 0) out.set(a.slice(0, eq), a.slice(eq + 1));
    else if (process.env[a] !== undefined) out.set(a, process.env[a]!);
  }
  return out;
}

/** `berth build [flags] CONTEXT`: the steps as podman prints them, then the image ID on stdout. */
export async function run(g: GlobalOptions, context: string | undefined, f: BuildFlags): Promise<void> {
  useSelfAsExitCommand();
  if (f.format !== 'oci' && f.format !== 'docker') throw new BerthError('USAGE', `unrecognized image type "${f.format}": must be oci or docker`);
  const format = f.format;
  if (f.network !== undefined && !['none', 'host'].includes(f.network)) throw new BerthError('USAGE', `--network ${f.network} is not supported by build yet: use none or host`);
  const timestamp = seconds('--timestamp', f.timestamp);
  // podman takes SOURCE_DATE_EPOCH from the environment when the flag is not given.
  const sourceDateEpoch = seconds('--source-date-epoch', f.sourceDateEpoch ?? process.env['SOURCE_DATE_EPOCH']);
  // Ctrl-C stops the build cleanly: the RUN in progress is killed and its container removed.
  const aborter = new AbortController();
  const stop = () => aborter.abort(new BerthError('BUILD_FAILED', 'the build was interrupted', { exitCode: 130 }));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await withStore(engineOptions(g), async (store) => {
    const record = await buildImage(store, {
      signal: aborter.signal,
      contextDir: context ?? '.',
      ...(f.file !== undefined ? { file: f.file } : {}),
      tags: f.tag,
      buildArgs: buildArgs(f.buildArg),
      labels: f.label,
      ...(f.target !== undefined ? { target: f.target } : {}),
      noCache: f.cache === false,
      format,
      ...(f.network !== undefined ? { network: f.network } : {}),
      ...(timestamp !== undefined ? { timestamp } : {}),
      ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
      ...(f.quiet ? {} : { out: (text: string) => process.stdout.write(text) }),
    });
    const id = record.id.replace(/^sha256:/, '');
    if (f.iidfile) await writeFile(f.iidfile, record.id);
    process.stdout.write(`${id}\n`);
  });
}
