import type { BaseImage } from '../images/commit.js';
import { BuildCache } from './cache.js';
import type { BuildSession, StepContext, StepOutcome } from './state.js';

/** What a step made: its image, and that image in memory for the next step. */
export interface MadeImage {
  id: string;
  image?: BaseImage;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 11);
const full = (id: string) => id.replace(/^sha256:/, '');

/** Prints podman's pending `COMMIT name` line, once. */
export function printCommit(session: BuildSession): void {
  if (session.commitLine !== undefined) session.out(session.commitLine);
  session.commitLine = undefined;
}

/** The `--> ID` line after the last step, as podman ends a build. */
export function shortId(id: string): string {
  return short(id);
}

/**
 * Runs one step through the cache: `key` names what it does, `make` makes its image (told, in a
 * build with fixed times, the top layer of the image the same step made before, if that image is
 * still here). `say` is
 * where the stage's lines go; `outcome`, when a live display follows the steps, learns the outcome
 * instead of the `-->` lines being printed. A hit gives no image in memory (it is read when needed).
 */
export async function throughCache(
  session: BuildSession,
  parent: string,
  key: string,
  make: (previousLayer?: string) => Promise<MadeImage>,
  say: (text: string) => void = session.out,
  outcome?: StepOutcome,
): Promise<MadeImage> {
  const k = BuildCache.key(parent, `${session.format}${session.timesKey ? ` ${session.timesKey}` : ''}\n${key}`);
  const live = session.opts.onStep !== undefined && outcome !== undefined;
  // Asked with --no-cache too: the image this step made before tells which layer it will likely make.
  const previous = await session.cache.lookup(k);
  if (!session.opts.noCache) {
    const hit = previous;
    if (hit) {
      if (!live) say(`--> Using cache ${full(hit)}\n`);
      printCommit(session);
      if (live) Object.assign(outcome, { id: hit, cached: true });
      else say(`--> ${short(hit)}\n`);
      return { id: hit };
    }
  }
  // With times fixed (--timestamp, SOURCE_DATE_EPOCH) the same step most likely makes the same
  // layer again; otherwise new directories' times differ at every run, and guessing would cost a read.
  const reproducible = session.timesKey !== '' && previous !== undefined;
  const made = await make(reproducible ? (await session.store.images()).find((i) => i.id === previous)?.layers.at(-1) : undefined);
  await session.cache.record(k, made.id, parent);
  session.made.add(made.id);
  printCommit(session);
  if (live) Object.assign(outcome, { id: made.id, cached: false });
  else say(`--> ${short(made.id)}\n`);
  return made;
}

/** A step of a stage through the cache: the stage moves on to the step's image. */
export async function advance(step: StepContext, key: string, make: (previousLayer?: string) => Promise<MadeImage>): Promise<void> {
  const made = await throughCache(step.session, step.state.imageId, key, make, step.say, step.outcome);
  step.state.imageId = made.id;
  step.state.base = made.image;
}
