import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { findOrPullImage } from '../containers/create-image.js';
import { baseImage, commitImage } from '../images/commit.js';
import { removeImages, tagImage } from '../images/records.js';
import type { ImageRecord } from '../../store/images.js';
import { storedName } from '../../store/lookup.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { BuildCache } from './cache.js';
import { printCommit, shortId, throughCache } from './cached-step.js';
import { loadContext } from './context.js';
import type { BuildOptions } from './options.js';
import { exportImage } from './output.js';
import { scheduleStages } from './scheduler.js';
import { squashImage } from './squash.js';
import { runStage } from './stage-runner.js';
import { checkPlatform, hasIndependentStages, planBuild } from './stages.js';
import type { BuildSession } from './state.js';

export type { BuildOptions, PullPolicy, StepEvent } from './options.js';

async function findDockerfile(contextDir: string, file: string | undefined): Promise<string> {
  if (file !== undefined) return resolve(file);
  for (const name of ['Containerfile', 'Dockerfile']) {
    const p = join(contextDir, name);
    if (
      await access(p).then(
        () => true,
        () => false,
      )
    )
      return p;
  }
  throw new BerthError('USAGE', `no Containerfile or Dockerfile specified or found in context directory, ${contextDir}: no such file or directory`);
}

/**
 * `berth build`: runs the stages the target needs (scheduler.ts), each step as its own image (an
 * intermediate image without names) made by its instruction's handler (steps/) and reused when its
 * key matches (stage-runner.ts, cached-step.ts), and names the target stage's last image. Returns
 * the record of the image built.
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
  const out = opts.out ?? (() => undefined);
  const epochArg = buildArgs.get('SOURCE_DATE_EPOCH');
  if (epochArg !== undefined && !/^\d+$/.test(epochArg)) throw new BerthError('USAGE', `SOURCE_DATE_EPOCH: "${epochArg}" is not a number of seconds`);
  const epoch = opts.timestamp ?? opts.sourceDateEpoch ?? (epochArg !== undefined ? Number(epochArg) : undefined);
  // An image named in the build (not a stage) is found or pulled once per build, whatever the policy.
  const external = new Map<string, Promise<string>>();
  const imageIdOf = (name: string): Promise<string> => {
    let p = external.get(name);
    if (!p) {
      const pullOptions = opts.pullOptionsFor?.(name) ?? opts.pullOptions;
      p = findOrPullImage(store, name, {
        pull: opts.pull ?? 'missing',
        ...(pullOptions ? { pullOptions } : {}),
        onPull: (n) => out(`Trying to pull ${n}...\n`),
      }).then((r) => r.id);
      external.set(name, p);
    }
    return p;
  };
  const aborter = new AbortController();
  const session: BuildSession = {
    store,
    opts,
    plan,
    ctx,
    cache: new BuildCache(store),
    format: opts.format ?? 'oci',
    lex: { escapeToken: plan.escapeToken },
    buildArgs,
    consumed: new Set<string>([...plan.globalArgs.keys(), 'SOURCE_DATE_EPOCH']),
    epoch,
    created: epoch === undefined ? undefined : new Date(epoch * 1000),
    times: opts.timestamp !== undefined ? { mtime: opts.timestamp } : epoch !== undefined ? { timestamp: epoch } : {},
    timesKey: opts.timestamp !== undefined ? `timestamp ${opts.timestamp}` : epoch !== undefined ? `epoch ${epoch}` : '',
    results: new Map(),
    resultImages: new Map(),
    imageIdOf,
    out,
    signal: aborter.signal,
    commitLine: undefined,
    made: new Set(),
  };
  // What was in the store before: an image a step makes again (the same ID) is never removed below.
  const existed = opts.dropIntermediates ? new Set((await store.images()).map((i) => i.id)) : undefined;

  const jobs = Math.max(1, Math.floor(opts.jobs ?? 1));
  const parallel = jobs > 1 && hasIndependentStages(plan.stages, plan.needed);
  let finalBase = '';
  await scheduleStages(plan.stages, plan.needed, jobs, opts.signal, aborter, async (stage) => {
    const first = await runStage(session, stage, { position: plan.needed.indexOf(stage), parallel });
    if (stage === plan.target) finalBase = first;
  });
  const built = session.results.get(plan.target.index);
  if (built === undefined) throw new BerthError('INTERNAL', 'the target stage was not built');
  let last = built;

  if (opts.labels?.length) last = await labelImage(session, last, opts.labels);
  if (opts.squash && last !== finalBase) {
    last = await squashImage(store, finalBase, last, session.format, session.times, session.created);
    session.commitLine ??= '';
  }
  if (session.commitLine !== undefined) {
    printCommit(session);
    out(`--> ${shortId(last)}\n`);
  }
  const unused = [...buildArgs.keys()].filter((k) => !session.consumed.has(k));
  if (unused.length) out(`[Warning] one or more build args were not consumed: [${unused.join(' ')}]\n`);
  if (opts.tags?.length) await tagImage(store, last, opts.tags);
  if (opts.output) await exportImage(store, last, opts.output);
  if (existed) await dropIntermediates(store, session.made, existed, last);
  const record = (await store.images()).find((i) => i.id === last);
  if (!record) throw new BerthError('IO', `the built image ${last} disappeared from the store`);
  for (const t of opts.tags ?? []) out(`Successfully tagged ${storedName(t)}\n`);
  return record;
}

/**
 * `--layers=false`: the images the steps made in this build, unnamed and new to the store, go, with
 * their layers; the final image and anything that was there before stay.
 */
async function dropIntermediates(store: Store, made: ReadonlySet<string>, existed: ReadonlySet<string>, final: string): Promise<void> {
  const images = await store.images();
  const doomed = images.filter((i) => made.has(i.id) && i.id !== final && !existed.has(i.id) && i.names.length === 0).map((i) => i.id);
  if (doomed.length) await removeImages(store, doomed, { ignore: true });
}

/** `--label K=V`: one more image over the target's, with the labels set, through the cache. */
async function labelImage(session: BuildSession, parent: string, given: readonly string[]): Promise<string> {
  const base = await baseImage(session.store, parent);
  const labels = { ...(base.config.config?.Labels ?? {}) };
  for (const l of given) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  const made = await throughCache(session, parent, `--label ${JSON.stringify(labels)}`, async () => {
    const { record, image } = await commitImage(session.store, base, {
      config: { ...(base.config.config ?? {}), Labels: labels },
      format: session.format,
      ...(session.created ? { created: session.created } : {}),
    });
    return { id: record.id, image };
  });
  return made.id;
}
