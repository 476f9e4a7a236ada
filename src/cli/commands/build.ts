import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { createWriteStream, existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildImage, parseOutput, type PullPolicy } from '../../engine/build/index.js';
import { withStore } from '../../engine/index.js';
import { imageEvent } from '../../engine/system/index.js';
import { BerthError } from '../../util/errors.js';
import { writeUserFile } from '../../util/user-file.js';
import { buildProgress } from '../build-progress.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { registryOptions } from './_registry-opts.js';
import { useSelfAsExitCommand } from './_self.js';
import { readStdin } from './_stdin.js';

interface BuildFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  label: string[];
  iidfile?: string;
  ignorefile?: string;
  logfile?: string;
  ulimit?: string[];
  securityOpt?: string[];
  format: string;
  cache?: boolean;
  target?: string;
  quiet?: boolean;
  network?: string;
  timestamp?: string;
  output?: string;
  squash?: boolean;
  layers?: string;
  secret: string[];
  sourceDateEpoch?: string;
  jobs?: string;
  platform?: string;
  buildArgFile: string[];
  pull?: boolean | string;
  pullAlways?: boolean;
  pullNever?: boolean;
  tlsVerify?: boolean | string;
  authfile?: string;
  certDir?: string;
  creds?: string;
}

/** `--jobs N`: stages built at once; by default as many as there are CPUs (independent stages rarely outnumber them). */
function buildJobs(value: string | undefined): number {
  if (value === undefined) return availableParallelism();
  if (!/^\d+$/.test(value)) throw new BerthError('USAGE', `invalid --jobs "${value}": a number is expected`);
  // As podman: 0 is no limit.
  return Number(value) === 0 ? Number.POSITIVE_INFINITY : Number(value);
}

const PULL_POLICIES: Readonly<Record<string, PullPolicy>> = {
  always: 'always',
  true: 'always',
  missing: 'missing',
  never: 'never',
  false: 'never',
  newer: 'newer',
};

/**
 * podman's `--pull[=policy]` and its aliases. A bare `--pull` may have swallowed the context
 * (commander takes the next word as the optional value): a word that is no policy is the context.
 */
function pullPolicy(f: BuildFlags, context: string | undefined): { policy: PullPolicy; context: string | undefined } {
  let policy: PullPolicy = 'missing';
  if (f.pull === true) policy = 'always';
  else if (typeof f.pull === 'string') {
    const p = PULL_POLICIES[f.pull.toLowerCase()];
    if (p) policy = p;
    else if (context === undefined) {
      policy = 'always';
      context = f.pull;
    } else throw new BerthError('USAGE', `invalid pull policy "${f.pull}": must be always, missing, never or newer`);
  }
  if (f.pullAlways) policy = 'always';
  if (f.pullNever) policy = 'never';
  return { policy, context };
}

/** podman's --build-arg-file: KEY=VALUE lines; blank lines and lines starting with # are skipped. */
async function buildArgFiles(files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch((e: unknown) => {
      throw new BerthError('USAGE', `--build-arg-file ${file}: ${(e as Error).message}`, { cause: e });
    });
    for (const raw of text.split('\n')) {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
      out.push(line);
    }
  }
  return out;
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
export async function run(g: GlobalOptions, contextArg: string | undefined, f: BuildFlags): Promise<void> {
  useSelfAsExitCommand();
  const { policy: pull, context } = pullPolicy(f, contextArg);
  const pullOptions = registryOptions(f);
  // podman checks the credentials file before it builds anything.
  if (f.authfile !== undefined && !existsSync(f.authfile))
    throw new BerthError('USAGE', `credential file is not accessible: stat ${f.authfile}: no such file or directory`);
  // The files first: a --build-arg given on the command line wins over them.
  const argList = [...(await buildArgFiles(f.buildArgFile ?? [])), ...f.buildArg];
  if (f.format !== 'oci' && f.format !== 'docker') throw new BerthError('USAGE', `unrecognized image type "${f.format}": must be oci or docker`);
  const format = f.format;
  if (f.network !== undefined && !['none', 'host'].includes(f.network))
    throw new BerthError('USAGE', `--network ${f.network} is not supported by build yet: use none or host`);
  const timestamp = seconds('--timestamp', f.timestamp);
  // podman takes SOURCE_DATE_EPOCH from the environment when the flag is not given.
  const sourceDateEpoch = seconds('--source-date-epoch', f.sourceDateEpoch ?? process.env['SOURCE_DATE_EPOCH']);
  const secrets = new Map<string, string>();
  for (const spec of f.secret) {
    const fields = new Map(spec.split(',').map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)] as const));
    const id = fields.get('id');
    const src = fields.get('src') ?? fields.get('source') ?? (fields.get('env') !== undefined ? undefined : id);
    if (!id || !src) throw new BerthError('USAGE', `invalid --secret "${spec}": id=ID,src=FILE is expected`);
    secrets.set(id, src);
  }
  // BUILDAH_LAYERS=false is podman's environment spelling of --layers=false.
  const layersFlag = f.layers ?? process.env['BUILDAH_LAYERS'];
  if (layersFlag !== undefined && !['true', 'false', '1', '0'].includes(layersFlag))
    throw new BerthError('USAGE', `invalid ${f.layers !== undefined ? '--layers' : 'BUILDAH_LAYERS'} "${layersFlag}": true or false`);
  const noLayers = layersFlag === 'false' || layersFlag === '0';
  const jobs = buildJobs(f.jobs);
  // `-` as the context or the file: read from stdin into temp space (a tar, or a lone Dockerfile).
  if (context === '-' && f.file === '-') throw new BerthError('USAGE', 'the context and the Containerfile cannot both come from stdin');
  const scratch = context === '-' || f.file === '-' ? await mkdtemp(join(tmpdir(), 'berth-build-')) : undefined;
  let contextDir = context ?? '.';
  let file = f.file;
  try {
    if (scratch && f.file === '-') {
      file = join(scratch, 'Containerfile');
      await writeFile(file, await readStdin());
    }
    if (scratch && context === '-') {
      contextDir = join(scratch, 'context');
      await mkdirp(contextDir);
      const input = await readStdin();
      const isTar = (input[0] === 0x1f && input[1] === 0x8b) || input.subarray(257, 262).toString('latin1') === 'ustar';
      if (isTar) await untar(input, contextDir);
      else await writeFile(join(contextDir, 'Containerfile'), input);
    }
    // A relative -f is looked for where the user stands, then in the context, as podman does.
    if (file !== undefined && !isAbsolute(file) && !existsSync(file) && existsSync(join(contextDir, file))) file = join(contextDir, file);
    await buildWith(contextDir, file);
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }

  async function buildWith(contextDir: string, file: string | undefined): Promise<void> {
    // Ctrl-C stops the build cleanly: the RUN in progress is killed and its container removed.
    const aborter = new AbortController();
    const stop = () => aborter.abort(new BerthError('BUILD_FAILED', 'the build was interrupted', { exitCode: 130 }));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // On a terminal the steps get a live status line; piped, the output is podman's plain lines.
    // --logfile takes the steps' output (the image ID still goes to stdout, for scripts).
    const log = f.logfile !== undefined ? createWriteStream(f.logfile) : undefined;
    const live = !f.quiet && !log && process.stdout.isTTY ? buildProgress(process.stdout) : undefined;
    await withStore(engineOptions(g), async (store) => {
      const record = await buildImage(store, {
        signal: aborter.signal,
        contextDir,
        ...(file !== undefined ? { file } : {}),
        ...(f.ignorefile !== undefined ? { ignoreFile: f.ignorefile } : {}),
        tags: f.tag,
        buildArgs: buildArgs(argList),
        pull,
        pullOptions,
        labels: f.label,
        ...(f.platform !== undefined ? { platform: f.platform } : {}),
        ...(f.target !== undefined ? { target: f.target } : {}),
        noCache: f.cache === false || noLayers,
        squash: f.squash === true || noLayers,
        ...(noLayers ? { dropIntermediates: true } : {}),
        secrets,
        ...(f.output !== undefined ? { output: parseOutput(f.output) } : {}),
        format,
        ...(f.network !== undefined ? { network: f.network } : {}),
        ...(timestamp !== undefined ? { timestamp } : {}),
        ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
        jobs,
        ...(f.ulimit?.length ? { ulimits: f.ulimit } : {}),
        ...(f.securityOpt?.length ? { securityOpt: f.securityOpt } : {}),
        ...(f.quiet
          ? {}
          : log
            ? { out: (text: string) => log.write(text) }
            : live
              ? { out: live.out, onStep: live.onStep }
              : { out: (text: string) => process.stdout.write(text) }),
      }).finally(() => live?.stop());
      if (log) await new Promise<void>((resolve, reject) => log.end((e?: Error | null) => (e ? reject(e) : resolve())));
      const id = record.id.replace(/^sha256:/, '');
      await imageEvent(store, 'build', record.id, record.names[0]);
      if (f.iidfile) await writeUserFile(f.iidfile, record.id);
      process.stdout.write(`${id}\n`);
    });
  }
}

async function mkdirp(dir: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
}

/** Unpacks a (possibly compressed) tar context; tar refuses names that climb out with its defaults. */
async function untar(input: Buffer, dir: string): Promise<void> {
  const archive = join(dir, '..', 'context.tar');
  await writeFile(archive, input);
  await promisify(execFile)('tar', ['-x', '--no-same-owner', '-f', archive, '-C', dir]).catch((e: unknown) => {
    throw new BerthError('USAGE', `reading the context from stdin: ${(e as { stderr?: string }).stderr?.trim() ?? (e as Error).message}`, { cause: e });
  });
}
