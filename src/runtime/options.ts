import { cpus as hostCpus } from 'node:os';
import { BerthError } from '../util/errors.js';

/**
 * The resource and security flags of `run`/`create`, parsed as podman and docker parse them, each
 * failing with one line that names the flag and the bad value.
 */

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** `512m`, `1g`, `1.5GB`, `1048576`: binary units, as docker's RAMInBytes. */
export function parseSize(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) throw new BerthError('USAGE', `invalid ${flag} "${value}": expected a size such as 512m or 1g`);
  const bytes = Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
  return bytes;
}

/** The limit in bytes; 0 means no limit, as in podman (`--memory=0` undoes nothing and sets nothing). */
export function parseMemory(value: string): number {
  const bytes = parseSize(value, '--memory');
  if (bytes === 0) return 0;
  // Below this the runtime's own setup does not fit; docker refuses it the same way.
  if (bytes < 6 * 1024 * 1024) throw new BerthError('USAGE', `invalid --memory "${value}": the minimum memory limit is 6MB`);
  return bytes;
}

export function parseCpus(value: string): number {
  const n = Number(value);
  const max = hostCpus().length;
  if (!Number.isFinite(n) || n <= 0 || value.trim() === '') throw new BerthError('USAGE', `invalid --cpus "${value}": expected a positive number`);
  if (n > max) throw new BerthError('USAGE', `invalid --cpus "${value}": range of CPUs is from 0.01 to ${max}.00, as there are only ${max} CPUs available`);
  return n;
}

/** -1 (or 0) means no limit, as in podman. */
export function parsePidsLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1 || value.trim() === '')
    throw new BerthError('USAGE', `invalid --pids-limit "${value}": expected a whole number, -1 for no limit`);
  return n;
}

/** CPU quota over the default 100 ms period, as docker's --cpus sets it. */
export function cpuQuota(cpus: number): { quota: number; period: number } {
  const period = 100_000;
  return { quota: Math.round(cpus * period), period };
}

/** `-e KEY=VALUE` or `-e KEY`: podman refuses only an empty name (`=x`), in these words. */
export function parseEnvFlag(entry: string): string {
  if (entry.startsWith('=')) throw new BerthError('USAGE', `invalid environment variable: ${JSON.stringify(entry)}`);
  return entry;
}

/**
 * `-w`: the process's working directory is taken inside the container's root, so it must be
 * absolute (podman refuses a relative one only at start, as a directory that does not exist).
 */
export function parseWorkdirFlag(dir: string): string {
  if (!dir.startsWith('/')) throw new BerthError('USAGE', `invalid workdir ${JSON.stringify(dir)}, must be an absolute path`);
  return dir;
}

/**
 * `-u USER[:GROUP]`: a colon more can name no user or group (passwd and group files are
 * colon-separated), so it is refused here rather than when the container starts.
 */
export function parseUserFlag(user: string): string {
  if (user.split(':').length > 2) throw new BerthError('USAGE', `invalid user ${JSON.stringify(user)}: expected USER[:GROUP]`);
  return user;
}

/** docker's env-file: KEY=VALUE or a bare KEY (the caller's value), # comments, blank lines. */
export function parseEnvFile(text: string): string[] {
  const out: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq === -1 ? line.trimEnd() : line.slice(0, eq);
    if (key === '' || /\s/.test(key)) throw new BerthError('USAGE', `env file line ${i + 1}: variable "${key}" contains whitespaces or is empty`);
    out.push(eq === -1 ? key : line);
  }
  return out;
}

/** A value the runtime reads as RLIM_INFINITY; written verbatim into config.json (JSON numbers lose it). */
export const RLIM_INFINITY = 'unlimited';
export type RlimitValue = number | typeof RLIM_INFINITY;
export interface Rlimit {
  type: string;
  soft: RlimitValue;
  hard: RlimitValue;
}

const ULIMIT_NAMES = [
  'as',
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
];

function ulimitValue(v: string, spec: string): RlimitValue {
  if (v === '-1' || v === 'unlimited') return RLIM_INFINITY;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || v.trim() === '') throw new BerthError('USAGE', `invalid --ulimit "${spec}": "${v}" is not a number`);
  return n;
}

/** `nofile=1024:2048`, `nproc=512`, `core=-1`. */
export function parseUlimit(spec: string): Rlimit {
  const eq = spec.indexOf('=');
  if (eq === -1) throw new BerthError('USAGE', `invalid --ulimit "${spec}": expected name=soft[:hard]`);
  const name = spec.slice(0, eq).toLowerCase();
  if (!ULIMIT_NAMES.includes(name)) throw new BerthError('USAGE', `invalid --ulimit "${spec}": unknown limit "${name}"`);
  const [softText = '', hardText, extra] = spec.slice(eq + 1).split(':');
  if (extra !== undefined) throw new BerthError('USAGE', `invalid --ulimit "${spec}": too many colons`);
  const soft = ulimitValue(softText, spec);
  const hard = hardText === undefined ? soft : ulimitValue(hardText, spec);
  const asNumber = (v: RlimitValue) => (v === RLIM_INFINITY ? Infinity : v);
  if (asNumber(soft) > asNumber(hard)) throw new BerthError('USAGE', `invalid --ulimit "${spec}": soft limit ${softText} is above hard limit ${hardText}`);
  return { type: `RLIMIT_${name.toUpperCase()}`, soft, hard };
}

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** 'default', 'unconfined', or the path of a profile. */
  seccomp: string;
  /** Extra paths to mask, and masked paths to expose (`ALL` for every one). */
  mask: string[];
  unmask: string[];
}

/** --security-opt values; SELinux and AppArmor labels are accepted and have nothing to apply here. */
export function parseSecurityOpts(list: string[]): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: 'default', mask: [], unmask: [] };
  for (const opt of list) {
    const sep = opt.search(/[=:]/);
    const key = sep === -1 ? opt : opt.slice(0, sep);
    const value = sep === -1 ? '' : opt.slice(sep + 1);
    switch (key) {
      case 'no-new-privileges':
        if (!['', 'true', 'false'].includes(value)) throw new BerthError('USAGE', `invalid --security-opt "${opt}": no-new-privileges takes true or false`);
        out.noNewPrivileges = value !== 'false';
        break;
      case 'seccomp':
        if (value === '') throw new BerthError('USAGE', `invalid --security-opt "${opt}": seccomp needs unconfined or a profile path`);
        out.seccomp = value;
        break;
      case 'mask':
        out.mask.push(...value.split(':').filter(Boolean));
        break;
      case 'unmask':
        out.unmask.push(...value.split(':').filter(Boolean));
        break;
      case 'label':
      case 'apparmor':
        break;
      default:
        throw new BerthError('USAGE', `invalid --security-opt "${opt}": expected no-new-privileges, seccomp=, mask=, unmask=, label= or apparmor=`);
    }
  }
  return out;
}
