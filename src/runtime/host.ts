import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ALL_CAPABILITIES } from './capabilities.js';

/** What this host lets a container have: the rlimits berth itself runs under and its capabilities. */

export interface HostLimit {
  soft: number;
  hard: number;
}

const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** /proc/self/limits (Node has no getrlimit); `unlimited` reads as Infinity. */
export function parseProcLimits(text: string): Map<string, HostLimit> {
  const out = new Map<string, HostLimit>();
  for (const line of text.split('\n').slice(1)) {
    const name = Object.keys(LIMIT_NAMES).find((n) => line.startsWith(n));
    if (!name) continue;
    const [soft, hard] = line.slice(name.length).trim().split(/\s+/);
    const value = (v: string | undefined) => (v === 'unlimited' ? Infinity : Number(v));
    out.set(LIMIT_NAMES[name]!, { soft: value(soft), hard: value(hard) });
  }
  return out;
}

export async function hostLimits(): Promise<Map<string, HostLimit>> {
  return parseProcLimits(await readFile('/proc/self/limits', 'utf8'));
}

function capabilitySet(status: string, field: 'CapEff' | 'CapBnd'): string[] {
  const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1];
  if (hex === undefined) return [];
  const bits = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_, bit) => ((bits >> BigInt(bit)) & 1n) === 1n);
}

/** The capabilities berth itself holds, the most a container can get (a VM may withhold some, e.g. CAP_SYS_RESOURCE). */
export async function hostCapabilities(): Promise<{ effective: string[]; bounding: string[] }> {
  const status = await readFile('/proc/self/status', 'utf8');
  return { effective: capabilitySet(status, 'CapEff'), bounding: capabilitySet(status, 'CapBnd') };
}

export interface HostDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/** Directories under /dev whose nodes a privileged container gets from its own mounts instead. */
const SKIP_DEV = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx']);

/** Every device node on the host, for --privileged (podman gives it all of them). */
export async function hostDevices(dir = '/dev'): Promise<HostDevice[]> {
  const out: HostDevice[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (SKIP_DEV.has(path)) continue;
    if (e.isDirectory()) {
      out.push(...(await hostDevices(path)));
    } else if (e.isCharacterDevice() || e.isBlockDevice()) {
      const st = await stat(path).catch(() => undefined);
      if (!st) continue;
      out.push({
        path,
        type: e.isCharacterDevice() ? 'c' : 'b',
        major: Number((BigInt(st.rdev) >> 8n) & 0xfffn),
        minor: Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n)),
        fileMode: st.mode & 0o777,
        uid: st.uid,
        gid: st.gid,
      });
    }
  }
  return out;
}
