/**
 * Phase timings on stderr when BERTH_TRACE is set: where a command spends its time, without a
 * profiler (`BERTH_TRACE=1 berth run --rm busybox true`).
 */
const enabled = Boolean(process.env.BERTH_TRACE);
const origin = performance.timeOrigin;

export function trace(label: string): void {
  if (enabled)
    process.stderr.write(
      `[berth ${(performance.now()).toFixed(1)}ms since process start, ${new Date(origin + performance.now()).toISOString().slice(17, 23)}] ${label}\n`,
    );
}
