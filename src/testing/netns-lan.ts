import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { addressAt } from '../network/cidr.js';
import { processGone } from './cli.js';
import { freeSubnet } from './free-subnet.js';

const run = promisify(execFile);

/**
 * A small LAN on this host for tests that need several machines (registry replicas each at its own
 * address): a bridge with an address of its own (the "host" side, where clients and shared services
 * such as the S3 server are reached) and network namespaces joined to it by veth pairs. Names carry
 * the test's PID, so a LAN whose test died is swept by the next; a /24 nothing on the host uses.
 */
export interface NetnsLan {
  /** The bridge's address: how the namespaces reach the host. */
  gateway: string;
  subnet: string;
  /** A new namespace on the LAN, with the next address. */
  addHost(): Promise<NetnsHost>;
  /** Kills what runs in the namespaces, removes them, the veths and the bridge. */
  cleanup(): Promise<void>;
}

export interface NetnsHost {
  /** The namespace's name (/run/netns/NAME). */
  netns: string;
  address: string;
  /** A command run inside the namespace, as a child of the test. */
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
}

const PREFIX = 'bt';

export async function netnsLan(): Promise<NetnsLan> {
  sweepDeadLans();
  // Interface names have at most 15 characters: bt<pid in base 36><n><tag>.
  const id = `${PREFIX}${process.pid.toString(36)}${randomInt(36 * 36)
    .toString(36)
    .padStart(2, '0')}`;
  const bridge = `${id}b`;
  const subnet = await freeSubnet();
  const gateway = addressAt(subnet, 1n);
  const hosts: { netns: string; child: ChildProcess[] }[] = [];
  const ip = (...args: string[]) => run('ip', args, { timeout: 10_000 });
  await ip('link', 'add', bridge, 'type', 'bridge');
  try {
    await ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');
  } catch (e) {
    await ip('link', 'del', bridge).catch(() => {});
    throw e;
  }
  const lan: NetnsLan = {
    gateway,
    subnet,
    async addHost() {
      const n = hosts.length + 1;
      const netns = `${id}-${n}`;
      const address = addressAt(subnet, BigInt(n + 1));
      const entry = { netns, child: [] as ChildProcess[] };
      hosts.push(entry);
      await ip('netns', 'add', netns);
      await ip('link', 'add', `${id}h${n}`, 'type', 'veth', 'peer', 'name', `${id}n${n}`);
      await ip('link', 'set', `${id}h${n}`, 'master', bridge, 'up');
      await ip('link', 'set', `${id}n${n}`, 'netns', netns);
      await ip('-n', netns, 'link', 'set', 'lo', 'up');
      await ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', `${id}n${n}`);
      await ip('-n', netns, 'link', 'set', `${id}n${n}`, 'up');
      await ip('-n', netns, 'route', 'add', 'default', 'via', gateway);
      // ACKs at once on the LAN (the namespace's own route): Ceph RGW, the S3 server these hosts
      // reach at the gateway, sends headers and body apart without tcp_nodelay, and each response
      // with a body otherwise waited for this side's delayed ACK (see quickack-loopback.ts).
      await ip('-n', netns, 'route', 'replace', subnet, 'dev', `${id}n${n}`, 'proto', 'kernel', 'scope', 'link', 'src', address, 'quickack', '1');
      return {
        netns,
        address,
        spawn(cmd, args, opts = {}) {
          const child = spawn('ip', ['netns', 'exec', netns, cmd, ...args], opts);
          entry.child.push(child);
          return child;
        },
      };
    },
    async cleanup() {
      for (const h of hosts) {
        for (const c of h.child) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        await killInNetns(h.netns);
        await ip('netns', 'del', h.netns).catch(() => {});
      }
      await ip('link', 'del', bridge).catch(() => {});
    },
  };
  return lan;
}

/** SIGKILL to every process in the namespace, and up to 5 s for them to end. */
async function killInNetns(netns: string): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'pids', netns], { timeout: 10_000 }).catch(() => ({ stdout: '' }));
  const pids = stdout.split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (let i = 0; i < 100 && pids.some((p) => !processGone(p)); i++) await new Promise((r) => setTimeout(r, 50));
}

/** Removes the namespaces and bridges of LANs whose test process is gone. */
function sweepDeadLans(): void {
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    // no namespace was ever named
  }
  const owner = (id: string) => Number.parseInt(id.slice(PREFIX.length, -2), 36);
  for (const netns of names) {
    const m = /^(bt[0-9a-z]+)-\d+$/.exec(netns);
    if (!m || !processGone(owner(m[1]!))) continue;
    void killInNetns(netns).then(() => run('ip', ['netns', 'del', netns]).catch(() => {}));
  }
  for (const dev of readdirSync('/sys/class/net')) {
    const m = /^(bt[0-9a-z]+)b$/.exec(dev);
    if (m && processGone(owner(m[1]!))) void run('ip', ['link', 'del', dev]).catch(() => {});
  }
}
