// The processes of a running container as `top` shows them (podman's AIX-format descriptors), for
// `berth top` and the API's GET /containers/{id}/top.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { getContainer } from './lifecycle.js';
import { runtimeFor } from './current.js';
import { containerPaths } from './paths.js';

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

const TOP_DESCRIPTORS: Record<string, [keyof ProcInfo, string]> = {
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

/**
 * Whether `top`'s arguments are podman's descriptors, which berth reads from /proc, rather than
 * ps(1)'s own options (`-eo pid,comm`), which podman hands to ps run inside the container.
 */
export function isTopDescriptorList(args: readonly string[]): boolean {
  return args.every((a) => !a.startsWith('-') && a.split(',').every((d) => d === '' || TOP_DESCRIPTORS[d] !== undefined));
}

/** What `top` prints by default. */
export const DEFAULT_TOP_DESCRIPTORS = ['user', 'pid', 'ppid', 'pcpu', 'etime', 'tty', 'time', 'args'];

/** The titles and one row per process (sorted by PID as the container sees it) for the descriptors given. */
export async function containerTop(
  store: Store,
  nameOrId: string,
  descriptors: string[] = DEFAULT_TOP_DESCRIPTORS,
): Promise<{ titles: string[]; processes: string[][] }> {
  for (const d of descriptors) if (!TOP_DESCRIPTORS[d]) throw new BerthError('USAGE', `unknown descriptor: ${d}`);
  const c = await getContainer(store, nameOrId);
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
  return {
    titles: descriptors.map((d) => TOP_DESCRIPTORS[d]![1]),
    processes: infos.map((p) => descriptors.map((d) => p[TOP_DESCRIPTORS[d]![0]])),
  };
}
