// GET /containers/{id}/stats in Docker's shape (moby's types.StatsJSON) from the engine's
// readings: the docker CLI takes the CPU share from the change of cpu_stats against
// precpu_stats, the memory from usage less the inactive file cache, and sums networks and blkio.
import type { StatsReading } from '../../engine/index.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

function cpuStats(r: StatsReading | undefined) {
  if (!r)
    return {
      cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    };
  return {
    cpu_usage: {
      total_usage: r.cpuNs,
      ...(r.perCpuNs.length ? { percpu_usage: r.perCpuNs } : {}),
      usage_in_kernelmode: r.cpuSystemNs,
      usage_in_usermode: r.cpuUserNs,
    },
    system_cpu_usage: r.systemCpuNs,
    online_cpus: r.onlineCpus,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

const isoNanos = (ns: number) => new Date(Math.floor(ns / 1e6)).toISOString();

/** One sample: `now` with `previous` as its precpu (none: zeros, as Docker's one-shot has them). */
export function dockerStats(c: { id: string; name: string }, now: StatsReading, previous: StatsReading | undefined) {
  const networks = Object.fromEntries(
    Object.entries(now.networks).map(([name, n]) => [
      name,
      {
        rx_bytes: n.rxBytes,
        rx_packets: n.rxPackets,
        rx_errors: n.rxErrors,
        rx_dropped: n.rxDropped,
        tx_bytes: n.txBytes,
        tx_packets: n.txPackets,
        tx_errors: n.txErrors,
        tx_dropped: n.txDropped,
      },
    ]),
  );
  const running = now.limit > 0;
  return {
    name: `/${c.name}`,
    id: c.id,
    read: isoNanos(now.at),
    preread: previous ? isoNanos(previous.at) : ZERO_TIME,
    pids_stats: running ? { current: now.pids, ...(now.pidsLimit ? { limit: now.pidsLimit } : {}) } : {},
    blkio_stats: {
      io_service_bytes_recursive: running ? now.blkio.map((b) => ({ major: b.major, minor: b.minor, op: b.op, value: b.value })) : null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(running ? now : undefined),
    precpu_stats: cpuStats(previous && previous.limit > 0 ? previous : undefined),
    memory_stats: running ? { usage: now.mem, stats: now.memStats, limit: now.limit } : {},
    ...(running && Object.keys(networks).length ? { networks } : {}),
  };
}
