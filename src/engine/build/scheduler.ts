import type { Stage } from './stages.js';
import { stageDeps } from './stages.js';

/**
 * Runs the needed stages, each as soon as the stages it needs are done, up to `jobs` at once. The
 * first failure aborts the others (through the signal each stage gets: a running RUN is killed and
 * its container removed) and is the error; the caller's signal aborts them all.
 */
export async function scheduleStages(
  stages: readonly Stage[],
  needed: readonly Stage[],
  jobs: number,
  callerSignal: AbortSignal | undefined,
  signal: AbortController,
  buildStage: (stage: Stage) => Promise<void>,
): Promise<void> {
  const forward = () => signal.abort(callerSignal!.reason);
  if (callerSignal?.aborted) forward();
  callerSignal?.addEventListener('abort', forward);
  const finished = new Set<number>();
  const running = new Map<number, Promise<void>>();
  const pending = [...needed];
  let failure: { error: unknown } | undefined;
  try {
    for (;;) {
      for (const stage of failure ? [] : [...pending]) {
        if (running.size >= jobs) break;
        if (!stageDeps(stages, stage).every((d) => finished.has(d))) continue;
        pending.splice(pending.indexOf(stage), 1);
        const task = buildStage(stage).then(
          () => void finished.add(stage.index),
          (e: unknown) => {
            if (failure) return;
            failure = { error: e };
            signal.abort(e);
          },
        );
        running.set(
          stage.index,
          task.finally(() => running.delete(stage.index)),
        );
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
  } finally {
    callerSignal?.removeEventListener('abort', forward);
  }
  if (failure) throw failure.error;
}
