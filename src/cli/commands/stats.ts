import { type ContainerRecord, hostMemory, readContainerStats, syncContainers } from '../../engine/containers/index.js';
import { type Store, withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { goJson } from '../output/_json.js';
import { formatOutput } from '../output/format.js';
import { bytesSize, goHumanSize } from '../output/units.js';

export interface StatsFlags {
  all?: boolean;
  format?: string;
  trunc: boolean;
  stream: boolean;
  interval?: string;
  reset: boolean;
}

/** One reading as the table needs it: the engine's, with the network and block I/O summed. */
interface Reading {
  cpuNs: number;
  /** Wall clock of the reading, in ns. */
  at: number;
  mem: number;
  limit: number;
  pids: number;
  netIn: number;
  netOut: number;
  blockIn: number;
  blockOut: number;
}

/** podman's terminal redraw between samples: clear the screen, cursor home. */
const CLEAR_SCREEN = '\x1b[2J\x1b[1;1H';

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}\t{{.UpTime}}\t{{.AvgCPUPerc}}';
const HEADERS = {
  ID: 'ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET IO',
  BlockIO: 'BLOCK IO',
  PIDs: 'PIDS',
  UpTime: 'CPU TIME',
  AvgCPU: 'AVG CPU',
  AvgCPUPerc: 'AVG CPU %',
};

async function read(c: ContainerRecord, hostMem: number): Promise<Reading> {
  const r = await readContainerStats(c, hostMem);
  const nets = Object.values(r.networks);
  const block = (op: string) => r.blkio.filter((b) => b.op === op).reduce((sum, b) => sum + b.value, 0);
  return {
    cpuNs: r.cpuNs,
    at: r.at,
    mem: r.mem,
    limit: r.limit,
    pids: r.pids,
    netIn: nets.reduce((sum, n) => sum + n.rxBytes, 0),
    netOut: nets.reduce((sum, n) => sum + n.txBytes, 0),
    blockIn: block('Read'),
    blockOut: block('Write'),
  };
}

/** Go's time.Duration.String, e.g. `25.66826ms`, `1m2.5s`, `0s`. */
export function goDurationString(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return '0s';
  const trim = (v: number, digits: number) => v.toFixed(digits).replace(/\.?0+$/, '');
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3, 3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6, 6)}ms`;
  const h = Math.floor(ns / 3.6e12);
  const m = Math.floor((ns % 3.6e12) / 6e10);
  const s = trim((ns % 6e10) / 1e9, 9);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

const percent = (v: number) => `${v.toFixed(2)}%`;

/**
 * One row, in podman's fields: CPU % over the time since the previous reading (since the start
 * for the first one), AVG CPU % over the container's whole run.
 */
function row(c: ContainerRecord, now: Reading, prev: Reading | undefined, trunc: boolean) {
  const startedNs = c.state.startedAt ? Date.parse(c.state.startedAt) * 1e6 : now.at;
  const upNs = Math.max(now.at - startedNs, 1);
  const avg = now.cpuNs > 0 ? (now.cpuNs / upNs) * 100 : 0;
  const cpu = prev && now.cpuNs > 0 ? (Math.max(now.cpuNs - prev.cpuNs, 0) / Math.max(now.at - prev.at, 1)) * 100 : avg;
  const memPerc = now.limit > 0 ? (now.mem / now.limit) * 100 : 0;
  return {
    ID: trunc ? c.id.slice(0, 12) : c.id,
    ContainerID: c.id,
    Name: c.name,
    CPUPerc: percent(cpu),
    CPU: cpu,
    AvgCPU: avg,
    AvgCPUPerc: percent(avg),
    CPUNano: now.cpuNs,
    SystemNano: now.at,
    UpTime: goDurationString(now.cpuNs),
    Duration: now.cpuNs,
    MemUsage: `${goHumanSize(now.mem)} / ${goHumanSize(now.limit)}`,
    MemUsageBytes: `${bytesSize(now.mem)} / ${bytesSize(now.limit)}`,
    MemPerc: percent(memPerc),
    MemLimit: now.limit,
    NetIO: `${goHumanSize(now.netIn)} / ${goHumanSize(now.netOut)}`,
    NetInput: now.netIn,
    NetOutput: now.netOut,
    BlockIO: `${goHumanSize(now.blockIn)} / ${goHumanSize(now.blockOut)}`,
    BlockInput: now.blockIn,
    BlockOutput: now.blockOut,
    PIDs: String(now.pids),
  };
}

type Row = ReturnType<typeof row>;

/** podman's `--format json`: its own snake_case keys, not the template's field names. */
function jsonRows(rows: Row[]): unknown {
  return rows.map((r) => ({
    id: r.ID,
    name: r.Name,
    cpu_time: r.UpTime,
    cpu_percent: r.CPUPerc,
    avg_cpu: r.AvgCPUPerc,
    mem_usage: r.MemUsage,
    mem_percent: r.MemPerc,
    net_io: r.NetIO,
    block_io: r.BlockIO,
    pids: r.PIDs,
  }));
}

function render(format: string | undefined, rows: Row[]): string {
  if (format === 'json') return `${goJson(jsonRows(rows), { indent: ' ', escapeHtml: true })}\n`;
  return formatOutput(format, rows, { defaultTable: DEFAULT_TABLE, headers: HEADERS, name: 'stats' });
}

function intervalSeconds(raw: string | undefined): number {
  if (raw === undefined) return 5;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()))
    throw new BerthError('USAGE', `invalid argument "${raw}" for "-i, --interval" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`);
  if (n <= 0) throw new BerthError('USAGE', 'invalid interval, must be a positive number greater zero');
  return n;
}

/** The containers asked for by name or ID, or every running one (all with -a), as they are now. */
async function pick(store: Store, names: string[], all: boolean): Promise<ContainerRecord[]> {
  const records = await syncContainers(store);
  if (!names.length) return records.filter((c) => all || c.state.status === 'running');
  return names.map((n) => {
    const c = records.find((r) => r.name === n || r.id === n) ?? records.find((r) => r.id.startsWith(n));
    if (!c)
      throw new BerthError(
        'CONTAINER_UNKNOWN',
        `unable to get list of containers: unable to look up container ${n}: no container with name or ID "${n}" found: no such container`,
      );
    return c;
  });
}

/**
 * `berth stats`: CPU, memory, network, block I/O and PIDs per container from its cgroup. Streams
 * a sample every --interval seconds (on a terminal redrawing the screen, as podman does, unless
 * --no-reset) until interrupted or, for containers named on the command line, until all of
 * them have stopped; --no-stream prints one sample.
 */
export async function run(g: GlobalOptions, names: string[], f: StatsFlags): Promise<void> {
  const interval = intervalSeconds(f.interval);
  await withStore(engineOptions(g), async (store) => {
    const hostMem = await hostMemory();
    const previous = new Map<string, Reading>();
    const redraw =
      f.stream && f.reset && process.stdout.isTTY && (f.format === undefined || f.format === '' || f.format === 'table' || f.format.startsWith('table'));
    for (;;) {
      const list = await pick(store, names, Boolean(f.all));
      const rows: Row[] = [];
      for (const c of list) {
        const now = await read(c, hostMem);
        rows.push(row(c, now, previous.get(c.id), f.trunc));
        previous.set(c.id, now);
      }
      process.stdout.write((redraw ? CLEAR_SCREEN : '') + render(f.format, rows));
      if (!f.stream) return;
      // Named containers that have all stopped have nothing more to show.
      if (names.length && list.every((c) => c.state.status !== 'running' && c.state.status !== 'paused')) return;
      await new Promise((r) => setTimeout(r, interval * 1000));
    }
  });
}
