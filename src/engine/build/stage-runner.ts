import { storedName } from '../../store/lookup.js';
import { BerthError } from '../../util/errors.js';
import { lineWriter, stepError } from './progress.js';
import type { Stage } from './stages.js';
import type { BuildSession, StageState, StepContext, StepOutcome } from './state.js';
import { runInstruction, startStage } from './steps/index.js';
import { takeTriggers } from './steps/onbuild.js';

/** How a stage's lines are shown: its place among the needed stages, and whether stages run side by side. */
export interface StageView {
  /** 0-based among the stages the build needs. */
  position: number;
  parallel: boolean;
}

/**
 * Runs one stage: its FROM, its base's ONBUILD triggers, then its steps in order, each through the
 * cache, with its progress lines (or live events). Records the stage's last image in the session.
 * Returns the stage's first image (what --squash squashes onto).
 */
export async function runStage(session: BuildSession, stage: Stage, view: StageView): Promise<string> {
  const { opts, plan, out, signal } = session;
  signal.throwIfAborted();
  const multi = plan.needed.length > 1;
  const label = `[${view.position + 1}/${plan.needed.length}] `;
  const prefix = multi && !view.parallel ? label : '';
  // Side by side, a stage's lines are written whole and each carries the stage's [N/M].
  const lines = view.parallel ? lineWriter(label, out) : undefined;
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
        opts.onStep?.({
          stage: multi ? label : '',
          step: n,
          steps: total,
          text,
          state: failed ? 'failed' : outcome.cached ? 'cached' : 'done',
          ms: Date.now() - started,
          ...(outcome.id ? { id: outcome.id } : {}),
        }),
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
    const state: StageState = await step(1, stage.from.original, async (outcome) => {
      const started = await startStage(session, stage, say, outcome);
      outcome.id ??= started.imageId;
      return started;
    });
    const firstImage = state.imageId;
    const context = (outcome: StepOutcome): StepContext => ({ session, stage, state, say, outcome });
    for (const trigger of takeTriggers(state)) {
      say(`${prefix}ONBUILD ${trigger.original}\n`);
      await runInstruction(trigger, context({}));
    }
    const commitText = opts.tags?.length ? `COMMIT ${storedName(opts.tags[0]!)}\n` : 'COMMIT\n';
    if (stage === plan.target && stage.instructions.length === 0) session.commitLine = commitText;
    for (const [i, ins] of stage.instructions.entries()) {
      signal.throwIfAborted();
      const isLast = stage === plan.target && i === stage.instructions.length - 1;
      await step(i + 2, ins.original, async (outcome) => {
        if (isLast) session.commitLine = commitText;
        await runInstruction(ins, context(outcome));
      });
    }
    session.results.set(stage.index, state.imageId);
    if (state.base) session.resultImages.set(stage.index, state.base);
    return firstImage;
  } catch (e) {
    // The stage that failed is named; the others, stopped because of it, say nothing more.
    if (signal.aborted && e === signal.reason) throw e;
    if (multi && e instanceof BerthError) throw new BerthError(e.code, `${named}: ${e.message}`, { cause: e, exitCode: e.exitCode, temporary: e.temporary });
    throw e;
  } finally {
    lines?.flush();
  }
}
