import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerPaths, getContainer, runtimeFor } from '../../engine/containers/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

const CLK_TCK = 100;

interface ProcInfo {
  user: string;
  pid: string;
  ppid: string;
  pcpu: string;
  etime: string;
  tty: string;
  time: string;
  args: string;
  comm: string;
}

async function bootTime(): Promise<number> {
  const stat = await readFile('/proc/stat', 'utf8');
  return Number(/^btime (\d+)/m.exec(stat)?.[1] ?? 0);
}

function goDuration(seconds: number): string {
  if (seconds < 60) return `${Number(seconds.toFixed(9))}s`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Number((seconds % 60).toFixed(9));
  return `${h ? `${h}h` : ''}${m}m${s}s`;
}

/** One process as the container sees it: PIDs from its namespace, user names from its passwd. */
async function procInfo(hostPid: number, users: Map<number, string>, nsPids: Map<number, number>, boot: number): Promise<ProcInfo | undefined> {
  try {
    const [status, stat, cmdline] = await Promise.all([
      readFile(`/proc/${hostPid}/status`, 'utf8'),
      readFile(`/proc/${hostPid}/stat`, 'utf8'),
      readFile(`/proc/${hostPid}/cmdline`, 'utf8'),
    ]);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppidHost = Number(fields[1]);
    const ttyNr = Number(fields[4]);
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const started = boot + Number(fields[19]) / CLK_TCK;
    const elapsed = Math.max(Date.now() / 1000 - started, 0.000001);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
    return {
      user: users.get(uid) ?? String(uid),
      pid: String(nsPids.get(hostPid) ?? hostPid),
      ppid: String(nsPids.get(ppidHost) ?? 0),
      pcpu: ((cpu / elapsed) * 100).toFixed(3),
      etime: goDuration(elapsed),
      tty: ttyNr === 0 ? '?' : `pts/${ttyNr & 0xff}`,
      time: goDuration(cpu),
      args: cmdline.split('\0').filter(Boolean).join(' ') || `[${comm}]`,
      comm,
    };
  } catch {
    return undefined; // exited meanwhile
  }
}

const DESCRIPTORS: Record<string, [keyof ProcInfo, string]> = {
  user: ['user', 'USER'],
  pid: ['pid', 'PID'],
  ppid: ['ppid', 'PPID'],
  pcpu: ['pcpu', '%CPU'],
  etime: ['etime', 'ELAPSED'],
  tty: ['tty', 'TTY'],
  time: ['time', 'TIME'],
  args: ['args', 'COMMAND'],
  comm: ['comm', 'COMMAND'],
};

/** `berth top CONTAINER [descriptors]`: podman's AIX-format descriptors (user pid ppid pcpu etime tty time args comm). */
export async function run(g: GlobalOptions, name: string, descriptors: string[]): Promise<void> {
  const wanted = descriptors.length ? descriptors.flatMap((d) => d.split(',')) : ['user', 'pid', 'ppid', 'pcpu', 'etime', 'tty', 'time', 'args'];
  for (const d of wanted) if (!DESCRIPTORS[d]) throw new BerthError('USAGE', `unknown descriptor: ${d}`);
  await withStore(engineOptions(g), async (store) => {
    const c = await getContainer(store, name);
    if (c.state.status !== 'running' && c.state.status !== 'paused')
      throw new BerthError('CONTAINER_STATE', `top can only be used on running containers: container state improper`);
    const pids = await runtimeFor(store, c).pids(c.id);
    const passwd = await readFile(join(containerPaths(store, c.id).overlay.merged, 'etc', 'passwd'), 'utf8').catch(() => '');
    const users = new Map<number, string>();
    for (const line of passwd.split('\n')) {
      const [user, , uid] = line.split(':');
      if (user && uid && !users.has(Number(uid))) users.set(Number(uid), user);
    }
    const nsPids = new Map<number, number>();
    for (const pid of pids) {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
      if (ns) nsPids.set(pid, Number(ns.at(-1)));
    }
    const boot = await bootTime();
    const infos = (await Promise.all(pids.map((p) => procInfo(p, users, nsPids, boot)))).filter((p): p is ProcInfo => p !== undefined);
    infos.sort((a, b) => Number(a.pid) - Number(b.pid));
    const rows = [wanted.map((d) => DESCRIPTORS[d]![1]), ...infos.map((p) => wanted.map((d) => p[DESCRIPTORS[d]![0]]))];
    const widths = wanted.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 4))).join('')).join('\n') + '\n');
  });
}
