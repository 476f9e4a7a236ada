import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { findExecutable } from '../../runtime/oci-runtime.js';
import type { ContainerRecord } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';
import type { ContainerPaths } from './paths.js';

/** slirp4netns's fixed addresses, as podman uses them. */
const SLIRP_ADDRESS = '10.0.2.100';
const SLIRP_DNS = '10.0.2.3';

/** The kernel's HOST_NAME_MAX: sethostname refuses a longer name. */
const HOSTNAME_MAX = 64;
const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/;

/**
 * A container's host name, checked before it is written into /etc/hosts and /etc/hostname: a
 * newline or space there would add lines or names of the caller's choosing. RFC 1123 labels
 * (letters, digits, hyphens; underscores too, which resolvers and podman users rely on), joined
 * by dots, and no longer than the kernel takes.
 */
export function validateHostname(name: string): string {
  const shown = JSON.stringify(name);
  if (name.length > HOSTNAME_MAX) throw new BerthError('USAGE', `invalid hostname ${shown}: must be at most ${HOSTNAME_MAX} characters`);
  if (!HOSTNAME.test(name)) {
    throw new BerthError('USAGE', `invalid hostname ${shown}: must be letters, digits, '-' and '_' in dot-separated labels that neither start nor end with '-'`);
  }
  return name;
}

/** /etc/hosts, /etc/resolv.conf and /etc/hostname for the container, written into its bundle. */
export async function writeEtcFiles(c: ContainerRecord, paths: ContainerPaths): Promise<void> {
  // A record written before create checked it must not inject lines either.
  validateHostname(c.config.hostname);
  const { mode } = c.config.network;
  const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const resolv =
    mode === 'slirp4netns'
      ? `nameserver ${SLIRP_DNS}\n${hostResolv.split('\n').filter((l) => /^(search|options)\b/.test(l)).join('\n')}\n`
      : hostResolv.split('\n').filter((l) => !/^nameserver\s+127\./.test(l) || mode === 'host').join('\n');
  const base = mode === 'host' ? await readFile('/etc/hosts', 'utf8').catch(() => '') : '127.0.0.1\tlocalhost localhost.localdomain\n::1\tlocalhost localhost.localdomain\n';
  const own = mode === 'slirp4netns' ? `${SLIRP_ADDRESS}\t${c.config.hostname} ${c.name}\n` : `127.0.1.1\t${c.config.hostname} ${c.name}\n`;
  await Promise.all([
    writeFile(paths.hosts, `${base.trimEnd()}\n${own}`),
    writeFile(paths.resolvConf, resolv.endsWith('\n') ? resolv : `${resolv}\n`),
    writeFile(paths.hostname, `${c.config.hostname}\n`),
  ]);
}

/**
 * Gives a container in its own network namespace outbound access through slirp4netns (user-mode
 * networking: a tap device in the namespace, NAT in a process outside). Returns that process's
 * PID, which cleanup stops when the container ends.
 */
export async function startSlirp(pid: number): Promise<number> {
  const bin = findExecutable('slirp4netns');
  if (!bin) throw new BerthError('USAGE', 'slirp4netns not found: install it (apt install slirp4netns) or use --network none|host');
  const child = spawn(bin, ['--configure', '--mtu=65520', '--disable-host-loopback', '--ready-fd=3', String(pid), 'tap0'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const ready = child.stdio[3] as Readable;
  await new Promise<void>((resolve, reject) => {
    ready.once('data', () => resolve());
    child.once('exit', (code) => reject(new BerthError('IO', `slirp4netns exited ${code}: ${stderr.trim()}`)));
    child.once('error', (e) => reject(new BerthError('IO', `starting slirp4netns: ${e.message}`, { cause: e })));
  });
  ready.destroy();
  child.stderr!.destroy();
  child.unref();
  return child.pid!;
}

export function stopHelpers(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
