import { createHash } from 'node:crypto';
import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { diffDirectory } from '../../archive/diff.js';
import { findOrPullImage } from '../containers/create.js';
import { tagImage } from '../images/records.js';
import { chompHeredocContent, envFromList, parseDockerfile, processWord, processWords, type Instruction } from '../../dockerfile/index.js';
import type { ContainerConfig } from '../../oci/manifest.js';
import type { ImageRecord } from '../../store/images.js';
import type { PullOptions } from '../images/pull.js';
import { storedName } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { trace } from '../../util/trace.js';
import { BuildCache } from './cache.js';
import { contextSources, hashSources, loadContext, type CopySource } from './context.js';
import { copyInto, copyLayer, imageSources, keepParents, ownerOf, type CopyPlan } from './copy.js';
import { baseImage, commitStep, type ImageFormat } from '../images/commit.js';
import { applyMetadata, isMetadata } from './metadata.js';
import { exportImage, squashDiffs, type BuildOutput } from './output.js';
import { runMounts } from './mounts.js';
import { downloadUrl, isRemoteSource, parseChecksum } from './remote.js';
import { runStep } from './run.js';
import { automaticArgs, checkFlags, checkPlatform, findStage, flagValue, flagValues, hasIndependentStages, lookupOf, planBuild, splitArg, stageDeps, type Stage } from './stages.js';

export interface BuildOptions {
  contextDir: string;
  /** The Dockerfile; default Containerfile, then Dockerfile, in the context. */
  file?: string;
  /** `--ignorefile`: the exclusions to use instead of the context's .containerignore/.dockerignore. */
  ignoreFile?: string;
  tags?: string[];
  buildArgs?: ReadonlyMap<string, string>;
  /** `--pull`: when a base image (FROM, COPY --from, a bind mount's from=) is pulled; default missing. */
  pull?: PullPolicy;
  /** TLS, credentials and the like for those pulls. */
  pullOptions?: PullOptions;
  /** `--platform`: only the host's is accepted (berth does not emulate). */
  platform?: string;
  /** `--label K=V`, set on the final image. */
  labels?: string[];
  target?: string;
  noCache?: boolean;
  format?: ImageFormat;
  /** RUN's network: the default bridge network (as buildah's as root), none, host or a network's name. */
  network?: string;
  /** RUN's rlimits and security options (`--ulimit`, `--security-opt`), as `run` takes them. */
  ulimits?: string[];
  securityOpt?: string[];
  /** `--timestamp`: seconds since the epoch for every created time and every file's mtime. */
  timestamp?: number;
  /**
   * SOURCE_DATE_EPOCH (the environment, `--source-date-epoch` or the build arg): created times are
   * set to it and the layers' mtimes clamped to it.
   */
  sourceDateEpoch?: number;
  /** `--squash` / `--layers=false`: the final stage's own steps become one layer over its base. */
  squash?: boolean;
  /** `-o`: also write the final image's file system here. */
  output?: BuildOutput;
  /** `--secret id=ID,src=FILE`: ID to the file a `RUN --mount=type=secret,id=ID` sees. */
  secrets?: ReadonlyMap<string, string>;
  /** Stops the build: a running RUN is killed, no further step starts. */
  signal?: AbortSignal;
  /** Progress and RUN output, as podman prints it; nothing when undefined. */
  out?: (text: string) => void;
  /**
   * For a live display: each step's start and outcome. When given, `out` gets no STEP or `-->`
   * lines (the display draws them), only RUN output, ONBUILD, COMMIT and warnings.
   */
  onStep?: (e: StepEvent) => void;
  /** How many independent stages may build at once (podman's --jobs); 1, the default, is sequential. */
  jobs?: number;
}

/** A step starting (`running`) or ending, as a live display shows it. */
export interface StepEvent {
  /** `[N/M] ` in a multi-stage build, else empty. */
  stage: string;
  step: number;
  steps: number;
  /** The instruction as written. */
  text: string;
  state: 'running' | 'cached' | 'done' | 'failed';
  /** Once ended: how long it took, and the image it made or reused (none for ARG and the like). */
  ms?: number;
  id?: string;
}

/** What cached() found out about a step: the image, and whether it came from the cache. */
interface StepOutcome {
  id?: string;
  cached?: boolean;
}

/**
 * Writes whole lines only, each with `prefix`: the output of stages building side by side stays
 * attributable. `flush` writes a last unterminated line.
 */
function lineWriter(prefix: string, out: (text: string) => void): { write: (text: string) => void; flush: () => void } {
  let partial = '';
  return {
    write(text) {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      if (lines.length) out(lines.map((l) => `${prefix}${l}\n`).join(''));
    },
    flush() {
      if (partial) out(`${prefix}${partial}\n`);
      partial = '';
    },
  };
}

export type PullPolicy = 'always' | 'missing' | 'never' | 'newer';

/** What one stage is doing: the image so far, its config, the ARGs in scope. */
interface StageState {
  imageId: string;
  config: ContainerConfig;
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

async function findDockerfile(contextDir: string, file: string | undefined): Promise<string> {
  if (file !== undefined) return resolve(file);
  for (const name of ['Containerfile', 'Dockerfile']) {
    const p = join(contextDir, name);
    if (await access(p).then(() => true, () => false)) return p;
  }
  throw new BerthError('USAGE', `no Containerfile or Dockerfile specified or found in context directory, ${contextDir}: no such file or directory`);
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 11);
const full = (id: string) => id.replace(/^sha256:/, '');

/**
 * A failed step's error with the step named, as podman words it (and scripts match): the base
 * image's as "creating build container: …", any other as `building at STEP "…": …`. The code and
 * exit code stay; an interrupted build and an already named step are left as they are.
 */
function stepError(e: unknown, n: number, text: string): unknown {
  // A Dockerfile mistake is the file's, not a step's: buildah reports it before any step runs.
  if (!(e instanceof BerthError) || e.exitCode === 130 || e.code === 'DOCKERFILE_INVALID' || e.message.startsWith('building at STEP ')) return e;
  const message = n === 1 ? `creating build container: ${e.message}` : `building at STEP "${text}": ${e.message}`;
  return new BerthError(e.code, message, { cause: e, temporary: e.temporary, exitCode: e.exitCode });
}

/**
 * `berth build`: runs the stages the target needs, each step as its own image (an intermediate
 * image without names), reusing a step's earlier image when its key matches, and names the target
 * stage's last image. Returns the record of the image built.
 */
export async function buildImage(store: Store, opts: BuildOptions): Promise<ImageRecord> {
  const contextDir = resolve(opts.contextDir);
  const file = await findDockerfile(contextDir, opts.file);
  const text = await readFile(file, 'utf8').catch((e: unknown) => {
    throw new BerthError('USAGE', `reading ${file}: ${(e as Error).message}`, { cause: e });
  });
  if (opts.platform !== undefined) checkPlatform(opts.platform, '--platform ');
  const buildArgs = opts.buildArgs ?? new Map<string, string>();
  const plan = planBuild(text, { buildArgs, ...(opts.target !== undefined ? { target: opts.target } : {}) });
  const ctx = await loadContext(contextDir, file, opts.ignoreFile);
  const cache = new BuildCache(store);
  const out = opts.out ?? (() => undefined);
  const format = opts.format ?? 'oci';
  const lex = { escapeToken: plan.escapeToken };
  const consumed = new Set<string>([...plan.globalArgs.keys(), 'SOURCE_DATE_EPOCH']);
  const epochArg = buildArgs.get('SOURCE_DATE_EPOCH');
  if (epochArg !== undefined && !/^\d+$/.test(epochArg)) throw new BerthError('USAGE', `SOURCE_DATE_EPOCH: "${epochArg}" is not a number of seconds`);
  const epoch = opts.timestamp ?? opts.sourceDateEpoch ?? (epochArg !== undefined ? Number(epochArg) : undefined);
  const created = epoch === undefined ? undefined : new Date(epoch * 1000);
  const times = opts.timestamp !== undefined ? { mtime: opts.timestamp } : epoch !== undefined ? { timestamp: epoch } : {};
  const when = created ? { created } : {};
  const timesKey = opts.timestamp !== undefined ? `timestamp ${opts.timestamp}` : epoch !== undefined ? `epoch ${epoch}` : '';
  const results = new Map<number, string>();
  // An image named in the build (not a stage) is found or pulled once per build, whatever the policy.
  const external = new Map<string, Promise<string>>();
  const imageIdOf = (name: string): Promise<string> => {
    let p = external.get(name);
    if (!p) {
      p = findOrPullImage(store, name, {
        pull: opts.pull ?? 'missing',
        ...(opts.pullOptions ? { pullOptions: opts.pullOptions } : {}),
        onPull: (n) => out(`Trying to pull ${n}...\n`),
      }).then((r) => r.id);
      external.set(name, p);
    }
    return p;
  };
  const multi = plan.needed.length > 1;

  /** podman's `COMMIT name` line, printed once the last step has run, before its image ID. */
  let commitLine: string | undefined;
  const printCommit = () => {
    if (commitLine !== undefined) out(commitLine);
    commitLine = undefined;
  };

  /**
   * Runs one step through the cache: `key` names what it does, `make` makes its image. `say` is
   * where the stage's lines go; `step`, when a live display follows the steps, learns the outcome
   * instead of the `-->` lines being printed.
   */
  const cached = async (parent: string, key: string, make: () => Promise<string>, say: (text: string) => void = out, step?: StepOutcome): Promise<string> => {
    const k = BuildCache.key(parent, `${format}${timesKey ? ` ${timesKey}` : ''}\n${key}`);
    const live = opts.onStep !== undefined && step !== undefined;
    if (!opts.noCache) {
      const hit = await cache.lookup(k);
      if (hit) {
        if (!live) say(`--> Using cache ${full(hit)}\n`);
        printCommit();
        if (live) Object.assign(step, { id: hit, cached: true });
        else say(`--> ${short(hit)}\n`);
        return hit;
      }
    }
    const id = await make();
    await cache.record(k, id, parent);
    printCommit();
    if (live) Object.assign(step, { id, cached: false });
    else say(`--> ${short(id)}\n`);
    return id;
  };

  let finalBase = '';
  // Stages run as soon as the stages they need are done, up to `jobs` at once; the first failure
  // aborts the others (a running RUN is killed and its container removed) and is the error.
  const jobs = Math.max(1, Math.floor(opts.jobs ?? 1));
  const parallel = jobs > 1 && hasIndependentStages(plan.stages, plan.needed);
  const aborter = new AbortController();
  const signal = aborter.signal;
  const forward = () => aborter.abort(opts.signal!.reason);
  if (opts.signal?.aborted) forward();
  opts.signal?.addEventListener('abort', forward);
  const finished = new Set<number>();
  const running = new Map<number, Promise<void>>();
  const pending = [...plan.needed];
  let failure: { error: unknown } | undefined;
  try {
    for (;;) {
      for (const stage of failure ? [] : [...pending]) {
        if (running.size >= jobs) break;
        if (!stageDeps(plan.stages, stage).every((d) => finished.has(d))) continue;
        pending.splice(pending.indexOf(stage), 1);
        const si = plan.needed.indexOf(stage);
        const task = buildStage(si, stage).then(
          () => void finished.add(stage.index),
          (e: unknown) => {
            if (failure) return;
            failure = { error: e };
            aborter.abort(e);
          },
        );
        running.set(stage.index, task.finally(() => running.delete(stage.index)));
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
  } finally {
    opts.signal?.removeEventListener('abort', forward);
  }
  if (failure) throw failure.error;
  const last0 = results.get(plan.target.index);
  if (last0 === undefined) throw new BerthError('INTERNAL', 'the target stage was not built');
  let last = last0;

  async function buildStage(si: number, stage: Stage): Promise<void> {
    signal.throwIfAborted();
    const label = `[${si + 1}/${plan.needed.length}] `;
    const prefix = multi && !parallel ? label : '';
    // Side by side, a stage's lines are written whole and each carries the stage's [N/M].
    const lines = parallel ? lineWriter(label, out) : undefined;
    const say = lines?.write ?? out;
    const named = stage.name ? `stage ${stage.name} ${label.trim()}` : `stage ${label.trim()}`;
    const total = stage.instructions.length + 1;
    const stepEvent = (n: number, text: string) => {
      const outcome: StepOutcome = {};
      const started = Date.now();
      opts.onStep?.({ stage: multi ? label : '', step: n, steps: total, text, state: 'running' });
      return {
        outcome,
        end: (failed: boolean) =>
          opts.onStep?.({ stage: multi ? label : '', step: n, steps: total, text, state: failed ? 'failed' : outcome.cached ? 'cached' : 'done', ms: Date.now() - started, ...(outcome.id ? { id: outcome.id } : {}) }),
      };
    };
    /** One step: its STEP line (or live event), its work, its outcome. */
    const step = async <T>(n: number, text: string, work: (outcome: StepOutcome) => Promise<T>): Promise<T> => {
      if (!opts.onStep) say(`${prefix}STEP ${n}/${total}: ${text}\n`);
      const ev = stepEvent(n, text);
      try {
        const r = await work(ev.outcome);
        ev.end(false);
        return r;
      } catch (e) {
        ev.end(true);
        throw stepError(e, n, text);
      }
    };
    try {
      const state = await step(1, stage.from.original, async (outcome) => {
        const started = await startStage(store, stage, plan.stages, results, (parent, key, make) => cached(parent, key, make, say, outcome), format, created, imageIdOf);
        outcome.id ??= started.imageId;
        return started;
      });
      if (stage === plan.target) finalBase = state.imageId;
      // The base image's ONBUILD triggers run first, and are not passed on.
      const triggers = (state.config.OnBuild as string[] | null | undefined) ?? [];
      if (triggers.length > 0) {
        state.config.OnBuild = null;
        for (const trigger of parseDockerfile(triggers.join('\n')).instructions) {
          say(`${prefix}ONBUILD ${trigger.original}\n`);
          await runInstruction(trigger, {});
        }
      }
      const commitText = opts.tags?.length ? `COMMIT ${storedName(opts.tags[0]!)}\n` : 'COMMIT\n';
      if (stage === plan.target && stage.instructions.length === 0) commitLine = commitText;
      for (const [i, ins] of stage.instructions.entries()) {
        signal.throwIfAborted();
        const isLast = stage === plan.target && i === stage.instructions.length - 1;
        await step(i + 2, ins.original, async (outcome) => {
          if (isLast) commitLine = commitText;
          await runInstruction(ins, outcome);
        });
      }
      results.set(stage.index, state.imageId);

    async function runInstruction(ins: Instruction, outcome: StepOutcome): Promise<void> {
      const expandEnv = () => lookupOf(new Map([...state.args, ...envFromList(state.config.Env ?? [])]));
      const expand = (w: string) => processWord(w, expandEnv(), lex);
      if (ins.heredocs.length > 0 && ins.keyword !== 'run' && ins.keyword !== 'copy' && ins.keyword !== 'add') {
        throw new BerthError('DOCKERFILE_INVALID', `${ins.keyword.toUpperCase()} takes no here-document (line ${ins.startLine})`);
      }
      switch (ins.keyword) {
        case 'arg':
          checkFlags(ins, []);
          for (const word of ins.args) {
            const { name, value } = splitArg(word);
            consumed.add(name);
            // SOURCE_DATE_EPOCH from the environment or --source-date-epoch is an ARG value too, as podman gives it.
            const given = buildArgs.get(name) ?? (name === 'SOURCE_DATE_EPOCH' && epoch !== undefined && opts.timestamp === undefined ? String(epoch) : undefined);
            const global = plan.globalArgs.get(name) ?? automaticArgs().get(name);
            state.args.set(name, given ?? (value !== undefined ? expand(value) : global));
          }
          return;
        case 'run': {
          checkFlags(ins, ['network', 'mount']);
          const mounts = await runMounts(store, ins, expand, opts.secrets ?? new Map(), {
            ctx,
            image: async (from) => {
              const dep = findStage(plan.stages, from, stage.index);
              const id = dep ? results.get(dep.index) : await imageIdOf(from);
              if (!id) throw new BerthError('INTERNAL', `stage ${from} has not been built`);
              return id;
            },
          });
          const argv = ins.json ? ins.args : [...shellOf(state.config), ins.heredocs.length > 0 ? heredocScript(ins) : ins.args.join(' ')];
          const argEnv = [...state.args].flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
          const network = flagValue(ins, 'network') ?? opts.network ?? 'default';
          // A secret's or cache's content is not part of the key: only where it is mounted.
          const limits = [...(opts.ulimits ?? []), ...(opts.securityOpt ?? [])];
          const key = `RUN ${JSON.stringify(argv)}\n${JSON.stringify(argEnv)}\n${network}${mounts.key ? `\n${mounts.key}` : ''}${limits.length ? `\n${JSON.stringify(limits)}` : ''}`;
          state.imageId = await cached(state.imageId, key, async () => {
            try {
              await mounts.prepare();
              const record = await runStep(
                store,
                {
                  image: state.imageId,
                  argv,
                  label: ins.original,
                  env: [...argEnv, ...(state.config.Env ?? [])],
                  user: state.config.User ?? '',
                  workdir: state.config.WorkingDir ?? '/',
                  ...(network === 'default' ? {} : { network }),
                  times,
                  volumes: mounts.volumes,
                  tmpfs: mounts.tmpfs,
                  exclude: mounts.stubs,
                  ...(opts.ulimits?.length ? { ulimits: opts.ulimits } : {}),
                  ...(opts.securityOpt?.length ? { securityOpt: opts.securityOpt } : {}),
                  ...(opts.out ? { output: say } : {}),
                  signal,
                },
                (layer) => commitStep(store, state.imageId, { config: state.config, layer, history: { created_by: ins.json ? `RUN ${JSON.stringify(argv)}` : argv.join(' ') }, format, ...when }),
              );
              return record.id;
            } finally {
              await mounts.cleanup();
            }
          }, say, outcome);
          return;
        }
        case 'copy':
        case 'add': {
          checkFlags(ins, ins.keyword === 'copy' ? ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'] : ['chown', 'chmod', 'link', 'checksum', 'parents', 'exclude']);
          const words = ins.args.map(expand);
          if (words.length < 2) throw new BerthError('DOCKERFILE_INVALID', `${ins.keyword.toUpperCase()} requires at least two arguments (line ${ins.startLine})`);
          const destWord = words.at(-1)!;
          const allSrcWords = words.slice(0, -1);
          const urlWords = ins.keyword === 'add' ? allSrcWords.filter(isRemoteSource) : [];
          const srcWords = allSrcWords.filter((w) => !urlWords.includes(w));
          const checksumWord = flagValue(ins, 'checksum');
          const checksum = checksumWord === undefined ? undefined : parseChecksum(expand(checksumWord), ins.startLine);
          if (checksum !== undefined && (urlWords.length !== 1 || srcWords.length > 0)) {
            throw new BerthError('DOCKERFILE_INVALID', `ADD --checksum needs exactly one URL source (line ${ins.startLine})`);
          }
          if (ins.keyword === 'add' && srcWords.some((s) => /^[a-z]+:\/\//i.test(s))) {
            throw new BerthError('DOCKERFILE_INVALID', `ADD: only http and https URLs can be fetched: ${srcWords.find((s) => /^[a-z]+:\/\//i.test(s))} (line ${ins.startLine})`);
          }
          const workdir = state.config.WorkingDir || '/';
          const joined = posix.isAbsolute(destWord) ? destWord : posix.join(workdir, destWord);
          const dest = (destWord.endsWith('/') || destWord === '.') && !joined.endsWith('/') ? `${joined}/` : joined;
          const chown = flagValue(ins, 'chown');
          const chmodWord = flagValue(ins, 'chmod');
          const chownSpec = chown === undefined ? undefined : expand(chown);
          let mode: number | undefined;
          if (chmodWord !== undefined) {
            mode = Number.parseInt(expand(chmodWord), 8);
            if (!/^[0-7]{3,4}$/.test(expand(chmodWord))) throw new BerthError('DOCKERFILE_INVALID', `invalid --chmod=${chmodWord}: an octal mode is expected (line ${ins.startLine})`);
          }
          const fromWord = flagValue(ins, 'from');
          const fromRef = fromWord === undefined ? undefined : expand(fromWord);
          const parentsWord = flagValue(ins, 'parents');
          if (parentsWord !== undefined && !['true', 'false'].includes(parentsWord)) throw new BerthError('DOCKERFILE_INVALID', `invalid --parents=${parentsWord}: true or false (line ${ins.startLine})`);
          const parents = parentsWord === 'true';
          const excludes = flagValues(ins, 'exclude').map(expand);
          const flags = `${chownSpec !== undefined ? `--chown=${chownSpec} ` : ''}${chmodWord !== undefined ? `--chmod=${mode!.toString(8)} ` : ''}${parents ? '--parents ' : ''}${excludes.map((e) => `--exclude=${JSON.stringify(e)} `).join('')}`;
          let sourceKey: string;
          let sourceImage: string | undefined;
          let ctxSources: CopySource[] | undefined;
          // A URL is fetched before the cache is asked: its content's digest is part of the key.
          const downloadDir = urlWords.length > 0 ? await store.tmp.make('build-add') : undefined;
          try {
            const downloads: CopySource[] = [];
            let urlKey = '';
            for (const u of urlWords) {
              const d = await downloadUrl(u, downloadDir!, checksum, signal);
              downloads.push({ path: d.path, rel: d.name, name: d.name, isDir: false, noExtract: true });
              urlKey += ` ${u} ${d.digest}`;
            }
            if (fromRef !== undefined) {
              const dep = findStage(plan.stages, fromRef, stage.index);
              sourceImage = dep ? results.get(dep.index) : await imageIdOf(fromRef);
              if (!sourceImage) throw new BerthError('INTERNAL', `stage ${fromRef} has not been built`);
              sourceKey = `from ${sourceImage} ${JSON.stringify(srcWords)}`;
            } else {
              // Here-documents become files of their own, named after their delimiter.
              const docs = new Map(ins.heredocs.map((h) => [h.name, h]));
              const docOf = (raw: string) => {
                const m = /^<<-?(["']?)(.+)\1$/s.exec(raw);
                return m ? docs.get(m[2]!) : undefined;
              };
              const docWords = ins.args.slice(0, -1).filter((_, i) => !urlWords.includes(allSrcWords[i]!)).map(docOf);
              const heredocDir = docWords.some(Boolean) ? await store.tmp.make('heredoc') : undefined;
              const docSources: CopySource[] = [];
              let docKey = '';
              for (const h of docWords) {
                if (!h) continue;
                let content = h.chomp ? chompHeredocContent(h.content) : h.content;
                if (h.expand) content = processWord(content, expandEnv(), { ...lex, skipProcessQuotes: true });
                await writeFile(join(heredocDir!, h.name), content, { mode: 0o644 });
                docSources.push({ path: join(heredocDir!, h.name), rel: h.name, isDir: false });
                docKey += `${h.name}\0${content}\0`;
              }
              const ctxWords = srcWords.filter((_, i) => !docWords[i]);
              const fromCtx = ctxWords.flatMap((s) => (parents ? keepParents(contextSources(ctx, s), s) : contextSources(ctx, s)));
              ctxSources = [...fromCtx, ...docSources, ...downloads];
              const urls = urlKey ? ` url${urlKey}` : '';
              trace('build: hashing COPY sources');
              sourceKey = `context ${JSON.stringify(srcWords)}${urls} ${await hashSources(fromCtx, ctx)}${docKey ? ` ${createHash('sha256').update(docKey).digest('hex')}` : ''}`;
            }
            const key = `${ins.keyword.toUpperCase()} ${flags}${sourceKey} ${dest}`;
            trace('build: COPY sources hashed');
            state.imageId = await cached(state.imageId, key, async () => {
              const layer = await copyLayer(store, state.imageId, sourceImage, async (root, sourceRoot) => {
                const owner = chownSpec === undefined ? undefined : await ownerOf(root, chownSpec);
                const fromImage = async () => (await Promise.all(srcWords.map(async (w) => (parents ? keepParents(await imageSources(sourceRoot!, [w]), w) : imageSources(sourceRoot!, [w]))))).flat();
                const sources = ctxSources ?? (await fromImage());
                const p: CopyPlan = {
                  sources,
                  dest,
                  ...(owner ? { owner } : {}),
                  ...(mode !== undefined ? { mode } : {}),
                  ...(ctxSources ? { ctx } : {}),
                  extractArchives: ins.keyword === 'add',
                  parents,
                  exclude: excludes,
                };
                await copyInto(root, p);
              });
              trace('build: COPY layer filled');
              try {
                const record = await commitStep(store, state.imageId, {
                  config: state.config,
                  layer: diffDirectory(layer.upper, times),
                  history: { created_by: `/bin/sh -c #(nop) ${ins.keyword.toUpperCase()} ${flags}${sourceKey.split(' ').at(-1)} in ${dest}` },
                  format,
                  ...when,
                });
                return record.id;
              } finally {
                await rm(layer.dir, { recursive: true, force: true });
              }
            }, say, outcome);
          } finally {
            if (downloadDir) await rm(downloadDir, { recursive: true, force: true });
          }
          return;
        }
        default: {
          if (!isMetadata(ins.keyword)) throw new BerthError('DOCKERFILE_INVALID', `unknown instruction: ${ins.value.toUpperCase()} (line ${ins.startLine})`);
          const { config, description } = applyMetadata(state.config, ins, expand, (w) => processWords(w, expandEnv(), lex), state);
          if (ins.keyword === 'healthcheck' && format === 'oci') {
            // The OCI config has no healthcheck: podman warns and leaves it out.
            say('[Warning] HEALTHCHECK is not supported for OCI image format and will be ignored. Must use `docker` format\n');
            delete config.Healthcheck;
          }
          state.config = config;
          state.imageId = await cached(state.imageId, description, async () => {
            const record = await commitStep(store, state.imageId, { config, history: { created_by: `/bin/sh -c #(nop) ${description}` }, format, ...when });
            return record.id;
          }, say, outcome);
        }
      }
    }
  } catch (e) {
      // The stage that failed is named; the others, stopped because of it, say nothing more.
      if (signal.aborted && e === signal.reason) throw e;
      if (multi && e instanceof BerthError) throw new BerthError(e.code, `${named}: ${e.message}`, { cause: e, exitCode: e.exitCode, temporary: e.temporary });
      throw e;
    } finally {
      lines?.flush();
    }
  }

  if (opts.labels?.length) {
    const parent = last;
    const { config } = await baseImage(store, parent);
    const labels = { ...(config.config?.Labels ?? {}) };
    for (const l of opts.labels) {
      const eq = l.indexOf('=');
      labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
    }
    last = await cached(parent, `--label ${JSON.stringify(labels)}`, async () => {
      return (await commitStep(store, parent, { config: { ...(config.config ?? {}), Labels: labels }, format, ...when })).id;
    });
  }
  if (opts.squash && last !== finalBase) {
    const squashed = await squashImage(store, finalBase, last, format, times, created);
    commitLine ??= '';
    last = squashed;
  }
  if (commitLine !== undefined) {
    printCommit();
    out(`--> ${short(last)}\n`);
  }
  const unused = [...buildArgs.keys()].filter((k) => !consumed.has(k));
  if (unused.length) out(`[Warning] one or more build args were not consumed: [${unused.join(' ')}]\n`);
  if (opts.tags?.length) await tagImage(store, last, opts.tags);
  if (opts.output) await exportImage(store, last, opts.output);
  const record = (await store.images()).find((i) => i.id === last);
  if (!record) throw new BerthError('IO', `the built image ${last} disappeared from the store`);
  for (const t of opts.tags ?? []) out(`Successfully tagged ${storedName(t)}\n`);
  return record;
}

/**
 * A shell-form RUN with here-documents, as BuildKit runs it: a RUN that is only `<<EOF` runs the
 * body as its script; otherwise the shell gets the command line followed by the bodies and their
 * delimiters, and does the redirections itself.
 */
function heredocScript(ins: Instruction): string {
  const cmd = ins.args.join(' ');
  const only = ins.heredocs.length === 1 ? ins.heredocs[0]! : undefined;
  const m = /^\d*<<(-?)(["']?)(.+)\2$/s.exec(cmd.trim());
  if (only && m && m[3] === only.name) return only.chomp ? chompHeredocContent(only.content) : only.content;
  return `${cmd}\n${ins.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`;
}

function shellOf(config: ContainerConfig): string[] {
  const shell = config.Shell;
  return Array.isArray(shell) && shell.length > 0 ? (shell as string[]) : ['/bin/sh', '-c'];
}

/** The stage's first image: another stage's result, an image of the store, or scratch. */
async function startStage(
  store: Store,
  stage: Stage,
  stages: readonly Stage[],
  results: ReadonlyMap<number, string>,
  cached: (parent: string, key: string, make: () => Promise<string>) => Promise<string>,
  format: ImageFormat,
  created: Date | undefined,
  imageIdOf: (name: string) => Promise<string>,
): Promise<StageState> {
  const dep = findStage(stages, stage.base, stage.index);
  let imageId: string;
  if (dep) {
    imageId = results.get(dep.index)!;
  } else if (stage.base === 'scratch') {
    // An empty image, so that every step has a parent to key its cache on and RUN an image to run.
    imageId = await cached('scratch', 'FROM scratch', async () => (await commitStep(store, undefined, { config: {}, format, ...(created ? { created } : {}) })).id);
  } else {
    imageId = await imageIdOf(stage.base);
  }
  const { config } = await baseImage(store, imageId);
  const run: ContainerConfig = structuredClone(config.config ?? {});
  // As buildah (imagebuilder's FromImage): a base without PATH gets the default one, first.
  if (!(run.Env ?? []).some((e) => e.startsWith('PATH='))) run.Env = [`PATH=${DEFAULT_PATH}`, ...(run.Env ?? [])];
  return { imageId, config: run, args: new Map(), cmdSet: false };
}





/**
 * --squash: one layer holding every change the stage made over its base (the layers merged as
 * overlayfs stacks them), under the final config; the base's layers stay as they are.
 */
async function squashImage(store: Store, base: string, top: string, format: ImageFormat, times: { timestamp?: number; mtime?: number }, created: Date | undefined): Promise<string> {
  const images = await store.images();
  const baseLayers = images.find((i) => i.id === base)?.layers ?? [];
  const topLayers = images.find((i) => i.id === top)?.layers ?? [];
  const ownLayers = topLayers.slice(baseLayers.length).map((c) => store.layers.diffDir(c));
  const { config } = await baseImage(store, top);
  const { config: baseConfig } = await baseImage(store, base);
  // podman keeps every step's history entry, all empty but the last, which carries the one layer.
  const steps = (config.history ?? []).slice((baseConfig.history ?? []).length);
  const last = steps.pop() ?? { created_by: '/bin/sh -c #(nop) squashed' };
  const { empty_layer: _, ...lastEntry } = last;
  const dir = await store.tmp.make('build-squash');
  try {
    await squashDiffs(ownLayers, join(dir, 'diff'), baseLayers.map((c) => store.layers.diffDir(c)), store.root);
    const record = await commitStep(store, base, {
      config: config.config ?? {},
      layer: diffDirectory(join(dir, 'diff'), times),
      priorHistory: steps.map((h) => ({ ...h, empty_layer: true })),
      history: lastEntry,
      format,
      ...(created ? { created } : {}),
    });
    return record.id;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
