/**
 * Phase timings on stderr when BERTH_TRACE is set: where a command spends its time, without a
 * profiler (`BERTH_TRACE=1 berth run --rm busybox true`).
 */
const enabled = Boolean(process.env.BERTH_TRACE);
// Read only when tracing: the global `performance` loads node:perf_hooks on first use (~1 ms).
const origin = enabled ? performance.timeOrigin : 0;

export function trace(label: string): void {
  if (enabled)
    process.stderr.write(
      `[berth ${(performance.now()).toFixed(1)}ms since process start, ${new Date(origin + performance.now()).toISOString().slice(17, 23)}] ${label}\n`,
    );
}
