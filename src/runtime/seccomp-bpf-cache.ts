import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { machine, release, version } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { hashHex } from '../util/hash.js';
import type { OciRuntime } from './oci-runtime.js';
import type { OciSeccomp } from './seccomp.js';

/**
 * crun compiles a container's seccomp profile into a BPF program at every `create`, through
 * libseccomp: 15-18 ms of a ~28 ms create here, for the same default profile every time (podman
 * pays it too). crun can keep the programs it compiled (its `.cache/seccomp`), but Debian 12's
 * crun 1.8.1 never looks there (strace: no lookup, no cache written; the checksum that keys it is
 * not computed in this build). What it does take is the program itself, in the
 * `run.oci.seccomp_bpf_data` annotation: then it compiles nothing (a create with the program
 * given: ~10 ms). So berth keeps, beside the runtime's state, the program crun wrote for a profile
 * (`seccomp.bpf` in the container's state directory after its create), and gives it to the next
 * create of the same profile.
 *
 * The program is crun's own output for that exact profile, and the key it is kept under covers
 * everything crun's compile depends on: the profile, crun's `seccomp_fail_unknown_syscall`
 * annotation, the crun binary, libseccomp (through the dynamic linker's cache, which every library
 * upgrade rewrites, and the library files), the kernel and the machine. A different one of any of
 * them is another key, so a miss: crun compiles as before, and its program is kept for next time.
 * The profile's flags and listener are read from config.json by crun either way.
 */

/** The annotation crun takes a compiled filter in (base64 of the sock_filter array). */
export const SECCOMP_BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';
const FAIL_UNKNOWN_ANNOTATION = 'run.oci.seccomp_fail_unknown_syscall';
/** More than this many kept programs (a profile per set of capabilities) and the cache starts over. */
const MAX_KEPT = 64;
/** A sock_filter is 8 bytes; BPF programs are at most 4096 instructions. */
const MAX_PROGRAM_BYTES = 4096 * 8;
const LIBSECCOMP_DIRS = [
  '/lib',
  '/usr/lib',
  '/lib64',
  '/usr/lib64',
  `/lib/${process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch}-linux-gnu`,
];

/** What a start does with the cache: the key to keep crun's program under, and the program when kept. */
export interface CompiledSeccomp {
  key: string;
  /** base64, for the annotation; undefined on a miss. */
  program?: string;
}

function cacheDir(runtime: OciRuntime): string {
  return join(dirname(runtime.stateRoot), 'seccomp-bpf');
}

function fileIdentity(path: string): string {
  try {
    const s = statSync(path);
    return `${path} ${s.dev} ${s.ino} ${s.size} ${s.mtimeMs} ${s.ctimeMs}`;
  } catch {
    return `${path} -`;
  }
}

let libseccomp: string | undefined;

/** The identity of every libseccomp.so.2 in the library directories (found once per process). */
function libseccompIdentity(): string {
  libseccomp ??= [...new Set(LIBSECCOMP_DIRS)].map((dir) => fileIdentity(join(dir, 'libseccomp.so.2'))).join('\n');
  return libseccomp;
}

function validProgram(bytes: Buffer): boolean {
  return bytes.length > 0 && bytes.length % 8 === 0 && bytes.length <= MAX_PROGRAM_BYTES;
}

/**
 * The compiled program for a container's seccomp profile, when the runtime is crun and the
 * cache has it (`program`), else the key to keep crun's program under after the create. Undefined
 * when there is nothing to do: another runtime, no filter, or a program the user gave.
 */
export function compiledSeccomp(runtime: OciRuntime, seccomp: OciSeccomp | undefined, annotations: Record<string, string>): CompiledSeccomp | undefined {
  if (runtime.name !== 'crun' || !seccomp || annotations[SECCOMP_BPF_ANNOTATION] !== undefined) return undefined;
  const key = hashHex(
    'sha256',
    [
      'berth seccomp bpf 1',
      fileIdentity(runtime.path),
      fileIdentity('/etc/ld.so.cache'),
      libseccompIdentity(),
      `${release()} ${version()} ${machine()}`,
      `${FAIL_UNKNOWN_ANNOTATION}=${annotations[FAIL_UNKNOWN_ANNOTATION] ?? ''}`,
      JSON.stringify(seccomp),
    ].join('\n'),
  );
  let program: Buffer | undefined;
  try {
    program = readFileSync(join(cacheDir(runtime), `${key}.bpf`));
  } catch {
    return { key };
  }
  return validProgram(program) ? { key, program: program.toString('base64') } : { key };
}

/**
 * Keeps the program crun compiled for container `id` (its `seccomp.bpf`, there from its create
 * until its delete) under `key`. Best effort: the cache only saves time, so a failure is ignored.
 */
export async function keepCompiledSeccomp(runtime: OciRuntime, id: string, key: string): Promise<void> {
  try {
    const program = readFileSync(join(runtime.stateRoot, id, 'seccomp.bpf'));
    if (!validProgram(program)) return;
    const dir = cacheDir(runtime);
    let kept: string[] = [];
    try {
      kept = readdirSync(dir);
    } catch {
      // the first one
    }
    if (kept.length >= MAX_KEPT) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(dir, `${key}.bpf`), program, 0o600, false);
  } catch {
    // not kept: the next create compiles again
  }
}
