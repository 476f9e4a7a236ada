import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { BerthError } from '../util/errors.js';

/**
 * Seccomp profiles in the containers-common / moby format (the one podman ships in
 * /usr/share/containers/seccomp.json and users pass with --security-opt seccomp=FILE) turned into
 * the OCI runtime spec's linux.seccomp for one container: rules kept or dropped by the host's
 * architecture, the kernel version and the container's capabilities.
 */

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}
interface ProfileRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
  excludes?: { caps?: string[]; arches?: string[]; minKernel?: string };
}
interface Profile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[] | null;
  syscalls?: ProfileRule[] | null;
  flags?: string[];
  listenerPath?: string;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }[];
}

/** Where podman and its packages keep the default profile, first found wins. */
export const DEFAULT_PROFILE_PATHS = ['/etc/containers/seccomp.json', '/usr/share/containers/seccomp.json'];

/** Go's GOARCH names (the profile's `arches`) and libseccomp's, for Node's process.arch. */
const HOST_ARCH: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  arm: { go: 'arm', scmp: 'SCMP_ARCH_ARM' },
  ia32: { go: '386', scmp: 'SCMP_ARCH_X86' },
  ppc64: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
  riscv64: { go: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
};

export interface SeccompTarget {
  /** The container's effective capabilities (CAP_ names). */
  capabilities: readonly string[];
  arch?: string;
  kernel?: string;
}

function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string) =>
    v
      .split(/[.-]/)
      .slice(0, 2)
      .map((n) => Number.parseInt(n, 10) || 0);
  const [a = 0, b = 0] = parse(kernel);
  const [c = 0, d = 0] = parse(min);
  return a !== c ? a > c : b >= d;
}

export function convertProfile(profile: Profile, target: SeccompTarget): OciSeccomp {
  if (typeof profile.defaultAction !== 'string') throw new BerthError('USAGE', 'seccomp profile has no defaultAction');
  const arch = HOST_ARCH[target.arch ?? process.arch] ?? { go: target.arch ?? process.arch, scmp: '' };
  const kernel = target.kernel ?? release();
  const caps = new Set(target.capabilities);
  let architectures = profile.architectures ?? [];
  if (profile.archMap && profile.archMap.length > 0) {
    const mine = profile.archMap.find((a) => a.architecture === arch.scmp);
    architectures = mine ? [mine.architecture, ...(mine.subArchitectures ?? [])] : [];
  }
  const syscalls: NonNullable<OciSeccomp['syscalls']> = [];
  for (const rule of profile.syscalls ?? []) {
    const inc = rule.includes ?? {};
    const exc = rule.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(arch.go)) continue;
    if (exc.arches?.length && exc.arches.includes(arch.go)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) continue;
    if (exc.caps?.length && exc.caps.some((c) => caps.has(c))) continue;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) continue;
    const names = rule.names?.length ? rule.names : rule.name ? [rule.name] : [];
    if (names.length === 0) continue;
    syscalls.push({
      names,
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args?.length ? { args: rule.args.map(({ index, value, valueTwo, op }) => ({ index, value, valueTwo: valueTwo ?? 0, op })) } : {}),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    ...(architectures.length ? { architectures } : {}),
    ...(profile.flags?.length ? { flags: profile.flags } : {}),
    syscalls,
  };
}

export async function loadProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BerthError('USAGE', `reading seccomp profile ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text) as Profile;
  } catch (e) {
    throw new BerthError('USAGE', `seccomp profile ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** The default profile podman uses; berth refuses to run unconfined by accident when none is installed. */
export async function defaultProfile(): Promise<Profile> {
  for (const path of DEFAULT_PROFILE_PATHS) {
    try {
      // One synchronous read of a local file, read at every container's start.
      return JSON.parse(readFileSync(path, 'utf8')) as Profile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new BerthError('USAGE', `reading seccomp profile ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  throw new BerthError(
    'USAGE',
    `no default seccomp profile in ${DEFAULT_PROFILE_PATHS.join(' or ')}: install containers-common (apt install golang-github-containers-common) or pass --security-opt seccomp=unconfined`,
  );
}
