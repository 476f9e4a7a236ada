import { baseImage, type BaseImage, type ImageFormat } from '../images/commit.js';
import { envFromList, processWord, processWords, type Instruction } from '../../dockerfile/index.js';
import type { ContainerConfig } from '../../oci/manifest.js';
import type { Store } from '../../store/store.js';
import type { BuildCache } from './cache.js';
import type { BuildContext } from './context.js';
import type { BuildOptions } from './options.js';
import { lookupOf, type BuildPlan, type Stage } from './stages.js';

/** What every stage of one build shares: its inputs, the cache, and what the stages have made. */
export interface BuildSession {
  store: Store;
  opts: BuildOptions;
  plan: BuildPlan;
  ctx: BuildContext;
  cache: BuildCache;
  format: ImageFormat;
  lex: { escapeToken: string };
  buildArgs: ReadonlyMap<string, string>;
  /** The build args some ARG took (the rest are warned about). */
  consumed: Set<string>;
  /** SOURCE_DATE_EPOCH or --timestamp, in seconds. */
  epoch: number | undefined;
  /** Every created time, when fixed by --timestamp or SOURCE_DATE_EPOCH. */
  created: Date | undefined;
  /** How layers' mtimes are set or clamped. */
  times: { timestamp?: number; mtime?: number };
  /** What of the above is part of every step's cache key. */
  timesKey: string;
  /** Each finished stage's (by index in the file) last image. */
  results: Map<number, string>;
  /** That image in memory, when its stage's last step made it (a stage built FROM it starts there). */
  resultImages: Map<number, BaseImage>;
  /** An image named in the build (not a stage), found or pulled once per build. */
  imageIdOf: (name: string) => Promise<string>;
  out: (text: string) => void;
  /** Aborted by the caller or by the first failing stage. */
  signal: AbortSignal;
  /** podman's `COMMIT name` line, printed once the last step has run, before its image ID. */
  commitLine: string | undefined;
  /** The images this build's steps made (not found in the cache): with `--layers=false`, removed after it. */
  made: Set<string>;
}

/**
 * What one stage has built so far: its image, that image held in memory while the last step made
 * it (undefined after a cache hit until a step needs it), the run config, the ARGs in scope.
 */
export interface StageState {
  imageId: string;
  base: BaseImage | undefined;
  config: ContainerConfig;
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

/** What the cache found out about a step: the image, and whether it came from the cache. */
export interface StepOutcome {
  id?: string;
  cached?: boolean;
}

/** One instruction being run: the build, its stage, the stage's state, where lines go. */
export interface StepContext {
  session: BuildSession;
  stage: Stage;
  state: StageState;
  /** Where the stage's lines go. */
  say: (text: string) => void;
  /** Filled in with the step's outcome, for a live display. */
  outcome: StepOutcome;
}

/** An instruction kind's handler: a function of the instruction and the step's state. */
export type StepHandler = (ins: Instruction, step: StepContext) => Promise<void>;

/** The variables a word of the stage sees: its ARGs, then its ENV. */
export function variablesOf(state: StageState): { get(name: string): string | undefined } {
  return lookupOf(new Map([...state.args, ...envFromList(state.config.Env ?? [])]));
}

/** Expands one word of an instruction with the stage's variables. */
export function expandWord(step: StepContext, word: string): string {
  return processWord(word, variablesOf(step.state), step.session.lex);
}

/** Expands a word into several (split on whitespace outside quotes). */
export function expandWords(step: StepContext, word: string): string[] {
  return processWords(word, variablesOf(step.state), step.session.lex);
}

/** The stage's image in memory: the one its last step made, or read from the store once after a cache hit. */
export async function currentBase(step: Pick<StepContext, 'session' | 'state'>): Promise<BaseImage> {
  step.state.base ??= await baseImage(step.session.store, step.state.imageId);
  return step.state.base;
}
