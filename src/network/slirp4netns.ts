import { addHostForward, forwardsOf } from './slirp-api.js';
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { lstat, readFile, realpath, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { findExecutable } from '../runtime/oci-runtime.js';
import { makeDirs } from '../util/dirs.js';
import { BerthError } from '../util/errors.js';
import { execFileAsync } from '../util/exec-file.js';
import {
  checkForwardedProtocols,
  FORWARDER_READY_MS,
  lastLine,
  requireTunForUsers,
  stopForwarder,
  type ForwarderState,
  type StartingForwarder,
} from './forwarder.js';
import { slirpAddresses, slirpOptionArgs, type SlirpOptions } from './slirp4netns-options.js';
import type { PortMapping } from './types.js';

/**
 * slirp4netns for a container's network namespace (pinned under the run root before the runtime
 * starts), as podman runs it: `--configure` gives the namespace its tap0 and addresses, `--ready-fd`
 * says when, `--exit-fd` ends it with the container's monitor, and `-p` goes through its API socket
 * (`add_hostfwd`), where slirp4netns itself binds the host port.
 */

/** `-p` checked for what slirp4netns can publish: TCP and UDP, on IPv4 host addresses (its API takes no other). */
export function checkSlirpPorts(ports: readonly PortMapping[]): void {
  checkForwardedProtocols('slirp4netns', ports);
  const v6 = ports.find((p) => isIP(p.host_ip) === 6);
  if (v6) throw new BerthError('USAGE', `--network slirp4netns publishes ports on IPv4 host addresses only, not ${v6.host_ip}`);
}

/**
 * The sandbox (a mount namespace holding only /etc and /run) needs the host's resolv.conf inside
 * those two, as podman checks before asking for it.
 */
async function sandboxable(): Promise<boolean> {
  try {
    if (!(await lstat('/etc/resolv.conf')).isSymbolicLink()) return true;
    const target = await realpath('/etc/resolv.conf');
    return target.startsWith('/etc/') || target.startsWith('/run/');
  } catch {
    return true;
  }
}

/**
 * A pipe whose read end slirp4netns polls as its exit descriptor: Node makes no anonymous pipe, so
 * a FIFO is made, both ends opened (the read end first, non-blocking, so neither open waits) and
 * its name removed at once.
 */
async function exitPipe(path: string): Promise<{ read: number; write: number }> {
  await rm(path, { force: true });
  await execFileAsync('mkfifo', ['-m', '0600', path]);
  try {
    const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      return { read, write: openSync(path, constants.O_WRONLY) };
    } catch (e) {
      closeSync(read);
      throw e;
    }
  } finally {
    await rm(path, { force: true });
  }
}

/** Publishes every host port of the mappings through the API socket, one `add_hostfwd` per port. */
async function addHostForwards(socket: string, ports: readonly PortMapping[], guest: string): Promise<void> {
  for (const m of ports) for (const f of forwardsOf(m, guest, 'container-port')) await addHostForward(socket, f);
}

/** Waits for slirp4netns's "1" on its ready descriptor, or its early exit (with its log's last line). */
function readyOrExit(child: ReturnType<typeof spawn>, log: string): Promise<void> {
  const ready = child.stdio[4] as Readable;
  let timer: NodeJS.Timeout | undefined;
  return new Promise<void>((resolve, reject) => {
    ready.once('data', () => resolve());
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new BerthError('IO', `slirp4netns did not set the network up within ${FORWARDER_READY_MS / 1000} s`));
    }, FORWARDER_READY_MS);
    child.once('error', (e) => reject(new BerthError('IO', `starting slirp4netns: ${e.message}`, { cause: e })));
    child.once('exit', (code, signal) => {
      void readFile(log, 'utf8')
        .catch(() => '')
        .then((text) => reject(new BerthError('IO', `slirp4netns failed (${signal ?? `exit ${code}`}): ${lastLine(text) || 'no message'}`)));
    });
  }).finally(() => {
    clearTimeout(timer);
    ready.destroy();
  });
}

/**
 * Starts slirp4netns on the pinned namespace `netns`, its files under `dir` named after `name`.
 * Returns at once with its PID and its exit descriptor; `ready` resolves once the namespace is
 * configured and `ports` are published (host ports already picked), and on failure has ended it.
 */
export async function startSlirp4netns(opts: {
  netns: string;
  dir: string;
  name: string;
  options: SlirpOptions;
  ports: readonly PortMapping[];
}): Promise<StartingForwarder> {
  const bin = findExecutable('slirp4netns');
  if (!bin) throw new BerthError('USAGE', 'slirp4netns not found: install it (apt install slirp4netns) or use --network none|host|pasta');
  await requireTunForUsers('slirp4netns');
  await makeDirs(opts.dir);
  const apiSocket = join(opts.dir, `${opts.name}.sock`);
  const log = join(opts.dir, `${opts.name}.log`);
  // A socket left by a start that was killed would make its bind fail.
  await rm(apiSocket, { force: true });
  const [pipe, sandbox] = await Promise.all([exitPipe(join(opts.dir, `${opts.name}.exit`)), sandboxable()]);
  let logFd: number | undefined;
  let released = false;
  const release = () => {
    if (!released) closeSync(pipe.write);
    released = true;
  };
  try {
    logFd = openSync(log, 'w', 0o600);
    const args = [
      ...slirpOptionArgs(opts.options),
      ...(sandbox ? ['--enable-sandbox'] : []),
      '--enable-seccomp',
      '--api-socket',
      apiSocket,
      '--exit-fd=3',
      '--ready-fd=4',
      '--netns-type=path',
      opts.netns,
      'tap0',
    ];
    const child = spawn(bin, args, { stdio: ['ignore', logFd, logFd, pipe.read, 'pipe'], detached: true });
    child.unref();
    const state: ForwarderState = { program: 'slirp4netns', pid: child.pid ?? 0, files: [apiSocket, log] };
    const ready = (async () => {
      try {
        await readyOrExit(child, log);
        await addHostForwards(apiSocket, opts.ports, slirpAddresses(opts.options.cidr).container);
        return state;
      } catch (e) {
        release();
        await stopForwarder(state);
        throw e;
      }
    })();
    ready.catch(() => undefined);
    return { state, exitFd: pipe.write, release, ready };
  } catch (e) {
    release();
    throw e;
  } finally {
    // The child has its own copies.
    closeSync(pipe.read);
    if (logFd !== undefined) closeSync(logFd);
  }
}
