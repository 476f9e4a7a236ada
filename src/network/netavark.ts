import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findExecutable } from '../runtime/oci-runtime.js';
import { makeDirs } from '../util/dirs.js';
import { envList, nativeCalls } from '../util/native.js';
import { BerthError } from '../util/errors.js';
import { DirLock } from '../util/lock.js';
import { isRootless } from '../util/rootless.js';
import { rootlessNetnsPath, rootlessResolvConfPath } from './rootless-netns.js';
import type { Network, NetworkOptions, StatusBlock } from './types.js';

/** Where Debian, Fedora and a local build put podman's network helpers. */
const HELPER_DIRS = ['/usr/local/libexec/podman', '/usr/local/lib/podman', '/usr/libexec/podman', '/usr/lib/podman'];

/** podman's helper directories first (netavark is not on PATH in Debian's package), then PATH. */
function helper(name: string): string | undefined {
  for (const dir of HELPER_DIRS) {
    const found = findExecutable(join(dir, name));
    if (found) return found;
  }
  return findExecutable(name);
}

export function netavarkBinary(): string {
  const found = helper('netavark');
  if (!found)
    throw new BerthError('USAGE', 'netavark not found: bridge networks need it (apt install netavark aardvark-dns), or use --network none|host|slirp4netns');
  return found;
}

/**
 * netavark 1.4 starts aardvark-dns through `systemd-run --scope` whenever /run/systemd/system
 * exists. Installing some packages makes that directory on hosts where systemd does not run, and
 * then systemd-run fails ("Failed to connect to bus") and no name resolves. netavark finds
 * systemd-run on PATH, so on such a host berth puts first on PATH a systemd-run that runs the
 * command itself: aardvark-dns then daemonizes as it would under systemd's scope.
 */
export function systemdIsFake(): boolean {
  if (!existsSync('/run/systemd/system')) return false;
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() !== 'systemd';
  } catch {
    return true;
  }
}

const SYSTEMD_RUN_SHIM = `#!/bin/sh
# Written by berth: netavark runs "systemd-run -q --scope [--user] aardvark-dns ...", and systemd
# does not run on this host. Drop systemd-run's own options and run the command.
while [ $# -gt 0 ]; do
  case "$1" in
    -q|--quiet|--scope|--user) shift ;;
    *) break ;;
  esac
done
exec "$@"
`;

async function shimDir(configDir: string): Promise<string> {
  const dir = join(configDir, 'bin');
  const path = join(dir, 'systemd-run');
  if ((await readFile(path, 'utf8').catch(() => '')) !== SYSTEMD_RUN_SHIM) {
    await makeDirs(dir);
    await writeFile(`${path}.tmp`, SYSTEMD_RUN_SHIM);
    await chmod(`${path}.tmp`, 0o755);
    await rename(`${path}.tmp`, path);
  }
  return dir;
}

/** The fake-systemd notice is said once per command. */
let warnedOfSystemd = false;

/**
 * Runs `netavark setup|teardown NETNS` with the options on stdin. `configDir` is under berth's run
 * root (aardvark-dns's per-network files and pid live in `<configDir>/aardvark-dns`), so berth's
 * DNS servers and podman's never share state. Errors become one line: netavark's own message.
 */
export async function netavark(
  command: 'setup' | 'teardown',
  netns: string,
  options: NetworkOptions,
  configDir: string,
  warn?: (message: string) => void,
): Promise<Record<string, StatusBlock>> {
  const bin = netavarkBinary();
  const aardvark = helper('aardvark-dns');
  // netavark runs iptables dozens of times per call, each found on PATH: the system directories
  // first spare it a walk through a user's own (~/.cargo/bin, pyenv shims…) every time.
  const env = { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin${process.env['PATH'] ? `:${process.env['PATH']}` : ''}` };
  if (systemdIsFake()) {
    env['PATH'] = `${await shimDir(configDir)}:${env['PATH']}`;
    if (!warnedOfSystemd && warn && command === 'setup' && Object.values(options.network_info).some((n) => n.dns_enabled)) {
      warnedOfSystemd = true;
      warn('/run/systemd/system exists but systemd is not running: starting aardvark-dns directly instead of through systemd-run');
    }
  }
  await makeDirs(configDir);
  // netavark does not serialise itself: two setups of one new network at once both try to make its
  // firewall chains ("Chain already exists"). One call at a time per run root, as podman locks its own.
  const named = underNetavarkNames(isRootless() ? insideRootlessNetns(options) : options);
  const status = await new DirLock(join(configDir, 'netavark.lock')).with(() => runNetavark(bin, command, netns, named.options, configDir, aardvark, env));
  return Object.fromEntries(Object.entries(status).map(([name, block]) => [named.berthName.get(name) ?? name, block]));
}

/**
 * The name netavark knows a network by. netavark names a network's firewall chains after a hash of
 * its name (`NETAVARK-<hash>`), so under their own names every store's default network "podman",
 * podman's own default network and any two networks called alike would share chains on this host,
 * and one's last teardown would delete the chain the other's containers still go through. A name
 * made from the network's ID is the host's alone.
 */
export const netavarkName = (network: Network) => `berth-${network.id.slice(0, 20)}`;

export function underNetavarkNames(options: NetworkOptions): { options: NetworkOptions; berthName: Map<string, string> } {
  const berthName = new Map<string, string>();
  const renamed = (name: string) => {
    const network = options.network_info[name];
    if (!network) return name;
    const n = netavarkName(network);
    berthName.set(n, name);
    return n;
  };
  return {
    options: {
      ...options,
      networks: Object.fromEntries(Object.entries(options.networks).map(([name, o]) => [renamed(name), o])),
      network_info: Object.fromEntries(Object.entries(options.network_info).map(([name, n]) => [renamed(name), { ...n, name: netavarkName(n) }])),
    },
    berthName,
  };
}

/**
 * Rootless, a published port reaches netavark's rules as slirp4netns's forward to the rootless
 * netns's own address (rootless-netns.ts), whatever host address it was published on: netavark
 * must match the port on any address there, not the host address it would match as root.
 */
export function insideRootlessNetns(options: NetworkOptions): NetworkOptions {
  if (!options.port_mappings?.length) return options;
  return { ...options, port_mappings: options.port_mappings.map((m) => ({ ...m, host_ip: '' })) };
}

/**
 * netavark's argv: as root on the host's namespace; rootless inside the user's rootless netns
 * (nsenter joins it: berth owns it, being 0 of the user namespace that made it), with
 * `--rootless true` as podman passes it. `resolvConf`, when given, is mounted over /etc/resolv.conf
 * in a mount namespace of netavark's own, which the aardvark-dns it starts keeps: the upstream
 * servers it forwards to (rootless-netns.ts says when the host's will not do).
 */
export function netavarkArgv(
  bin: string,
  command: 'setup' | 'teardown',
  netns: string,
  configDir: string,
  aardvark: string | undefined,
  rootless: boolean,
  resolvConf?: string,
): string[] {
  const args = ['--config', configDir, '--rootless', String(rootless), ...(aardvark ? ['--aardvark-binary', aardvark] : []), command, netns];
  if (!rootless) return [bin, ...args];
  const nsenter = findExecutable('nsenter');
  const unshare = findExecutable('unshare');
  if (!nsenter || !unshare) throw new BerthError('USAGE', 'nsenter and unshare (util-linux) are needed for rootless bridge networks');
  const inside = [nsenter, `--net=${rootlessNetnsPath(configDir)}`, '--', bin, ...args];
  if (!resolvConf) return inside;
  // The paths are the script's arguments, never part of its text.
  return [
    unshare,
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"',
    'sh',
    resolvConf,
    ...inside,
  ];
}

async function runNetavark(
  bin: string,
  command: 'setup' | 'teardown',
  netns: string,
  options: NetworkOptions,
  configDir: string,
  aardvark: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, StatusBlock>> {
  const rootless = isRootless();
  const resolvConf = rootless && existsSync(rootlessResolvConfPath(configDir)) ? rootlessResolvConfPath(configDir) : undefined;
  const [file, ...args] = netavarkArgv(bin, command, netns, configDir, aardvark, rootless, resolvConf);
  const { code, stdout, stderr } = await runForOutput(file!, args, env, JSON.stringify(options));
  if (code !== 0) throw new BerthError('NETWORK', `netavark ${command}: ${netavarkError(stdout, stderr)}`);
  if (command === 'teardown') return {};
  try {
    return JSON.parse(stdout) as Record<string, StatusBlock>;
  } catch {
    throw new BerthError('NETWORK', `netavark setup printed no result: ${stderr.trim().split('\n').at(-1) ?? ''}`);
  }
}

/**
 * Runs netavark with `input` on its stdin: its exit code, stdout and (the first 8 KiB of) stderr.
 * Exported for its test.
 */
export function runForOutput(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // With berth's native addon, netavark is made with posix_spawn and its pipes read off Node's
  // thread (Node's spawn forks the whole process), with the same ends: its exit and stdout's.
  const native = nativeCalls();
  if (native) {
    return native.run(file, [file, ...args], envList(env), 64 << 20, Buffer.from(input), true).then(
      ([status, signal, stdout, stderr]) => ({
        code: signal ? null : status,
        stdout: stdout.toString('utf8'),
        stderr: stderr.subarray(0, 8192).toString('utf8'),
      }),
      (e: Error) => Promise.reject(new BerthError('IO', `running netavark: spawn ${file} ${(e as NodeJS.ErrnoException).code}`, { cause: e })),
    );
  }
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    // stderr is a pipe aardvark-dns inherits and keeps open while it runs: wait for netavark's exit
    // and the end of its stdout, not for stderr to close. 'exit' can come before the last stdout
    // chunk is read (seen under load), so the result is taken only once stdout has ended too; a
    // grace period covers a stdout some child of netavark might hold open.
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    let exitCode: number | null | undefined;
    let stdoutEnded = false;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const settle = () => {
      if (settled) return;
      settled = true;
      // A grace timer left running kept the whole process alive for its 2 s after the work was done.
      clearTimeout(grace);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code: exitCode ?? null, stdout: out, stderr: err });
    };
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stdout.once('end', () => {
      stdoutEnded = true;
      if (exitCode !== undefined) settle();
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err.length < 8192 ? (err += s) : undefined));
    child.stdin.on('error', () => undefined);
    child.once('error', (e) => reject(new BerthError('IO', `running netavark: ${e.message}`, { cause: e })));
    child.once('exit', (code) => {
      exitCode = code;
      if (stdoutEnded) settle();
      else grace = setTimeout(settle, 2000);
    });
    child.stdin.end(input);
  });
}

/** netavark reports failures as `{"error": "..."}` on stdout; older builds print to stderr. */
function netavarkError(stdout: string, stderr: string): string {
  try {
    const parsed = JSON.parse(stdout) as { error?: string };
    if (parsed.error) return parsed.error;
  } catch {
    // not JSON
  }
  const lines = `${stderr}\n${stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/failed to connect to syslog/.test(l));
  return lines.at(-1) ?? 'failed';
}
