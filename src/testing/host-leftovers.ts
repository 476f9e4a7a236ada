import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { processGone, SYNC_TIMEOUT_MS } from './cli.js';

/**
 * What a Docker engine started by a test leaves on the host after it stopped, and its removal:
 * processes that escaped its process group, firewall rules and chains, bridges, cgroups. Each is
 * found by something only that engine has (its private directory, bridge names, subnets), so that
 * nothing of another engine, podman's or berth's is touched.
 */

function sh(cmd: string, args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: SYNC_TIMEOUT_MS, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout ?? '' };
}

/** PIDs of the processes whose command line names `needle` (a test's private directory). */
export function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

/** SIGKILL to each process that names `needle` on its command line (shims, aardvark-dns), and up to 10 s for them to go. */
export function killProcessesMentioning(needle: string): void {
  const pids = processesMentioning(needle);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (let i = 0; i < 200 && pids.some((p) => !processGone(p)); i++) spawnSync('sleep', ['0.05']);
}

/** Whether any dockerd runs on the host (a test's or the host's own). */
export function dockerdRunning(): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'dockerd' && !processGone(Number(name))) return true;
    } catch {
      // gone
    }
  }
  return false;
}

/** The cgroup v1 hierarchies and the v2 mount, each a directory under /sys/fs/cgroup. */
function cgroupMounts(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const f = line.split(' ');
    if ((f[2] === 'cgroup' || f[2] === 'cgroup2') && f[1]) out.push(f[1]);
  }
  return out;
}

/** Kills every process in the cgroup `parent` (a path under each hierarchy) and removes it, deepest first. */
export function removeCgroup(parent: string): void {
  for (const mount of cgroupMounts()) {
    const top = join(mount, parent);
    if (!existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      dirs.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    };
    walk(top);
    for (const d of dirs.reverse()) {
      try {
        for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // empty, or gone
      }
      for (let i = 0; i < 20; i++) {
        try {
          rmdirSync(d);
          break;
        } catch {
          // its processes are still exiting
          spawnSync('sleep', ['0.05']);
        }
      }
    }
  }
}

/** Bridges (and any other link) that carry an IPv4 address inside one of `subnets`' /16 prefixes "10.N.". */
export function linksWithAddressIn(prefixes: string[]): string[] {
  const r = sh('ip', ['-j', '-4', 'addr', 'show']);
  if (r.status !== 0) return [];
  const links = JSON.parse(r.stdout) as { ifname: string; addr_info?: { local: string }[] }[];
  return links.filter((l) => l.addr_info?.some((a) => prefixes.some((p) => a.local.startsWith(p)))).map((l) => l.ifname);
}

export function deleteLink(name: string): void {
  sh('ip', ['link', 'delete', name]);
}

/** `iptables-save` of one table, or '' where iptables is missing. */
export function iptablesSave(table: 'filter' | 'nat'): string {
  return sh('iptables-save', ['-t', table]).stdout;
}

/** The Docker chains (DOCKER, DOCKER-USER, DOCKER-ISOLATION-STAGE-n) a table holds now. */
export function dockerChains(table: 'filter' | 'nat'): string[] {
  return iptablesSave(table)
    .split('\n')
    .filter((l) => /^:DOCKER\b/.test(l))
    .map((l) => l.slice(1).split(' ')[0]!);
}

/** Splits an iptables-save rule as its shell would: words, double quotes kept together. */
function ruleWords(rule: string): string[] {
  return [...rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/**
 * Removes dockerd's firewall state: every rule that names one of `marks` (its bridges, its subnets),
 * and, when `ownChains` (no dockerd runs any more), every jump to a DOCKER chain and the chains.
 */
export function removeDockerRules(marks: string[], ownChains: boolean): void {
  for (const table of ['filter', 'nat'] as const) {
    const rules = iptablesSave(table)
      .split('\n')
      .filter((l) => l.startsWith('-A '));
    for (const rule of rules) {
      const words = ruleWords(rule);
      const chain = words[1]!;
      // Rules inside DOCKER chains go with the chains (flushed below), when they are ours.
      const inDockerChain = chain.startsWith('DOCKER');
      const named = words.some((w) => marks.some((m) => w === m || w.startsWith(m)));
      const jumpsToDocker = words.some((w, i) => (words[i - 1] === '-j' || words[i - 1] === '-g') && w.startsWith('DOCKER'));
      if ((named && !(ownChains && inDockerChain)) || (ownChains && jumpsToDocker && !inDockerChain)) sh('iptables', ['-t', table, '-D', ...words.slice(1)]);
    }
    if (!ownChains) continue;
    const chains = dockerChains(table);
    for (const c of chains) sh('iptables', ['-t', table, '-F', c]);
    for (const c of chains) sh('iptables', ['-t', table, '-X', c]);
  }
}
