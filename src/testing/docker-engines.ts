import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostSubnets } from '../network/host-subnets.js';
import { subnetsOverlap } from '../network/cidr.js';
import { berthBin, busyboxRootfs, ok, processGone, run, type RunOptions, type RunResult, SYNC_TIMEOUT_MS } from './cli.js';
import {
  deleteLink,
  dockerdRunning,
  killProcessesMentioning,
  linksWithAddressIn,
  processesMentioning,
  removeCgroup,
  removeDockerRules,
} from './host-leftovers.js';
import { type Registry, startRegistry } from './registry.js';
import { hardNofile, hardNproc, ping, removeDir, startDaemon, stopDaemon, waitForPing } from './daemons.js';

/**
 * Docker Engine API servers for end-to-end tests, each started privately and removed whole: the
 * anchors (Debian's dockerd 20.10 and podman 4.3's `system service`) and berth's own service, so that
 * one client scenario runs against each and shows where berth differs from them.
 *
 * Each engine gets a directory of its own (store, run state, socket, logs), a block of addresses
 * 10.N.0.0/16 that no host route or interface uses and no other engine of a test holds (its default
 * bridge in 10.N.200.0/24, its pool for new networks 10.N.0.0/17, subnets a test names itself from
 * 10.N.128.0/24 on), a local registry on loopback, and the busybox test image loaded through its API.
 */

export type EngineKind = 'dockerd' | 'podman' | 'berth';

/**
 * The engines the API scenarios run against: berth's service and the two anchors, dockerd (the
 * reference where they differ) and podman's service. BERTH_TEST_ENGINES (a comma list, e.g. `berth`)
 * runs them against fewer.
 */
export const TEST_ENGINES: readonly EngineKind[] = enginesFromEnv() ?? ['berth', 'dockerd', 'podman'];

function enginesFromEnv(): EngineKind[] | undefined {
  const v = process.env.BERTH_TEST_ENGINES;
  if (!v) return undefined;
  const kinds = v.split(',').map((k) => k.trim());
  for (const k of kinds) if (k !== 'dockerd' && k !== 'podman' && k !== 'berth') throw new Error(`BERTH_TEST_ENGINES: unknown engine ${JSON.stringify(k)}`);
  return kinds as EngineKind[];
}

/** The test image every engine has: Debian's busybox-static, CMD sh (its httpd serves the web tests). */
export const TEST_IMAGE = 'busybox:latest';

export interface DockerEngine {
  kind: EngineKind;
  /** The engine's private directory. */
  dir: string;
  socket: string;
  /** The server's process ID. */
  pid: number;
  /** DOCKER_HOST, and a private DOCKER_CONFIG so the docker CLI writes nothing under $HOME. */
  env: Record<string, string>;
  /** A local registry (host:port on 127.0.0.1) this engine pulls from and pushes to over plain HTTP. */
  registry: string;
  /** The Nth /24 a test may create a network with (unique to this engine, free on the host). */
  subnet(n: number): string;
  /** The docker CLI against this engine. */
  docker(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Like docker(), failing the test on a non-zero exit. */
  dockerOk(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** The engine's own CLI on the engine's store (`podman`, `berth`; `docker` for dockerd). */
  cli(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** That CLI's command line and environment, for a script to run it (bench/docker-api.sh). */
  cliCommand: CliCommand;
  /** Stops the engine and removes everything it made; safe to call twice. */
  stop(): Promise<void>;
}

/** Where each engine started by a test is recorded while it runs, so a later start can clean up after a test process that was killed. */
const STATE_DIR = '/run/berth-test-engines';

interface EngineRecord {
  kind: EngineKind;
  /** The test process that started it. */
  owner: number;
  dir: string;
  /** N of 10.N.0.0/16. */
  block: number;
  /** dockerd: its default bridge and cgroup parent. */
  bridge?: string;
  cgroupParent?: string;
}

function records(): { file: string; record: EngineRecord }[] {
  if (!existsSync(STATE_DIR)) return [];
  const out: { file: string; record: EngineRecord }[] = [];
  for (const name of readdirSync(STATE_DIR).filter((n) => n.endsWith('.json'))) {
    try {
      out.push({ file: join(STATE_DIR, name), record: JSON.parse(readFileSync(join(STATE_DIR, name), 'utf8')) as EngineRecord });
    } catch {
      // being written
    }
  }
  return out;
}

/** Cleans up after engines whose test process died without stopping them. */
function sweepOrphans(): void {
  for (const { file, record } of records()) {
    if (!processGone(record.owner)) continue;
    killProcessesMentioning(record.dir);
    // podman's containers outlive conmon (killed by the test runner): its reset stops them and
    // undoes their networks.
    if (record.kind === 'podman' && existsSync(join(record.dir, 'containers.conf'))) {
      spawnSync('podman', [...podmanGlobalArgs(record.dir), 'system', 'reset', '-f'], {
        stdio: 'ignore',
        env: { ...process.env, CONTAINERS_CONF: join(record.dir, 'containers.conf') },
        timeout: 2 * SYNC_TIMEOUT_MS,
        killSignal: 'SIGKILL',
      });
    }
    removeHostState(record);
    removeDir(record.dir);
    rmSync(file, { force: true });
  }
}

/** Firewall rules, bridges and cgroups an engine left, found by its own names and addresses. */
function removeHostState(record: EngineRecord): void {
  const prefix = `10.${record.block}.`;
  const links = linksWithAddressIn([prefix]);
  if (record.kind === 'dockerd') {
    // The DOCKER chains are every dockerd's: the last one to stop (this one, when no other runs, a
    // test's or the host's own) takes them away, as dockerd itself leaves them behind.
    removeDockerRules([prefix, ...links], !dockerdRunning());
    if (record.cgroupParent) removeCgroup(record.cgroupParent);
  }
  for (const link of links) deleteLink(link);
}

/** A 10.N.0.0/16 that no host route or address, and no other test engine, uses. */
async function freeBlock(): Promise<number> {
  const used = await hostSubnets();
  const taken = new Set(records().map((r) => r.record.block));
  for (let i = 0; i < 200; i++) {
    const n = 100 + (randomBytes(1)[0]! % 150);
    if (taken.has(n)) continue;
    if (!used.some((s) => subnetsOverlap(s, `10.${n}.0.0/16`))) return n;
  }
  throw new Error('no free 10.N.0.0/16 for a test engine');
}

let imageArchive: Promise<string> | undefined;

/**
 * The busybox test image as a docker-archive, made with berth (import, then save) once per test
 * process, in a directory removed when the process exits.
 */
export function testImageArchive(): Promise<string> {
  imageArchive ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-test-image-'));
    process.once('exit', () => removeDir(dir));
    const archive = join(dir, 'busybox-image.tar');
    const rootfs = join(dir, 'busybox-rootfs.tar');
    await busyboxRootfs(rootfs);
    const args = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run')];
    await ok(berthBin, [...args, 'import', '--change', 'CMD ["sh"]', rootfs, `docker.io/library/${TEST_IMAGE}`]);
    await ok(berthBin, [...args, 'save', '-o', archive, `docker.io/library/${TEST_IMAGE}`]);
    return archive;
  })();
  return imageArchive;
}

export interface CliCommand {
  cmd: string;
  args: string[];
  env: Record<string, string>;
}

interface Started {
  socket: string;
  pid: number;
  /** The engine's own CLI on its store. */
  cli?: CliCommand;
  /** Stops the server and removes what it made, other than the engine's directory and record. */
  stop: () => Promise<void>;
}

interface Setup {
  dir: string;
  block: number;
  registry: Registry;
  record: EngineRecord;
  saveRecord: () => void;
}

async function startDockerd(s: Setup): Promise<Started> {
  const { dir, block } = s;
  const socket = join(dir, 'docker.sock');
  const bridge = `bdk${randomBytes(4).toString('hex')}`;
  const cgroupParent = `/berth-test-${bridge}`;
  s.record.bridge = bridge;
  s.record.cgroupParent = cgroupParent;
  s.saveRecord();
  // dockerd makes only docker0 itself (-b and --bip exclude each other): a bridge of another name
  // must exist, and dockerd takes its address as the default network's gateway and subnet.
  await ok('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
  await ok('ip', ['addr', 'add', `10.${block}.200.1/24`, 'dev', bridge]);
  await ok('ip', ['link', 'set', bridge, 'up']);
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'exec'), { recursive: true });
  const log = join(dir, 'dockerd.log');
  const nofile = hardNofile();
  const child = startDaemon(
    'dockerd',
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '-H',
      `unix://${socket}`,
      '--bridge',
      bridge,
      '--default-address-pool',
      `base=10.${block}.0.0/17,size=24`,
      '--exec-opt',
      'native.cgroupdriver=cgroupfs',
      '--cgroup-parent',
      cgroupParent,
      '--default-ulimit',
      `nofile=${nofile}:${nofile}`,
      '--storage-driver',
      'overlay2',
      // Containers it still runs at stop are killed at once: the tests remove theirs anyway.
      '--shutdown-timeout',
      '2',
      '--log-level',
      'warn',
    ],
    log,
  );
  await waitForPing('dockerd', child, socket, log);
  return {
    socket,
    pid: child.pid!,
    stop: async () => {
      // Containers first, through the API, so that their networks and ports go the normal way.
      const env = { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config') };
      if (await ping(socket)) {
        const ids = (await run('docker', ['ps', '-aq'], { env, timeoutMs: 30_000 }).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
        if (ids.length > 0) await run('docker', ['rm', '-f', '-v', ...ids], { env, timeoutMs: 60_000 }).catch(() => undefined);
      }
      await stopDaemon(child, 20_000);
    },
  };
}

function podmanGlobalArgs(dir: string): string[] {
  return [
    '--root',
    join(dir, 'root'),
    '--runroot',
    join(dir, 'run'),
    '--tmpdir',
    join(dir, 'tmp'),
    '--storage-driver',
    'overlay',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'file',
    '--network-config-dir',
    join(dir, 'networks'),
  ];
}

/**
 * podman's environment: containers.conf with rlimits within this host's hard limits (podman's own
 * defaults exceed them and every run fails), its default network in this engine's block under a
 * bridge name of its own (a network file written here, so podman never makes `podman0`), new
 * networks from the block's pool; registries.conf that lets it use the local registry over HTTP.
 */
function podmanEnv(dir: string, block: number, registry: string): Record<string, string> {
  const net = join(dir, 'networks');
  mkdirSync(net, { recursive: true });
  const name = `bpd${randomBytes(4).toString('hex')}`;
  writeFileSync(
    join(net, `${name}.json`),
    `${JSON.stringify(
      {
        name,
        id: randomBytes(32).toString('hex'),
        driver: 'bridge',
        network_interface: name,
        created: new Date().toISOString(),
        subnets: [{ subnet: `10.${block}.200.0/24`, gateway: `10.${block}.200.1` }],
        ipv6_enabled: false,
        internal: false,
        dns_enabled: false,
        ipam_options: { driver: 'host-local' },
      },
      null,
      2,
    )}\n`,
  );
  const nofile = hardNofile();
  const nproc = Math.min(hardNproc(), 32768);
  const conf = join(dir, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      '[network]',
      'network_backend = "netavark"',
      `network_config_dir = "${net}"`,
      `default_network = "${name}"`,
      `default_subnet_pools = [{ base = "10.${block}.0.0/17", size = 24 }]`,
      '',
    ].join('\n'),
  );
  const registries = join(dir, 'registries.conf');
  writeFileSync(registries, `unqualified-search-registries = []\n\n[[registry]]\nlocation = "${registry}"\ninsecure = true\n`);
  // podman puts its temporary files in /var/tmp when TMPDIR is unset, and its service's push
  // leaves one there (`digest.txt<N>`) per image pushed: they go in this engine's directory instead.
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return { CONTAINERS_CONF: conf, CONTAINERS_REGISTRIES_CONF: registries, TMPDIR: tmp };
}

async function startPodman(s: Setup): Promise<Started> {
  const { dir, block } = s;
  const socket = join(dir, 'podman.sock');
  const env = podmanEnv(dir, block, s.registry.host);
  for (const d of ['root', 'run', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  const log = join(dir, 'podman.log');
  const child = startDaemon('podman', [...podmanGlobalArgs(dir), 'system', 'service', '--time', '0', `unix://${socket}`], log, env);
  await waitForPing('podman', child, socket, log);
  return {
    socket,
    pid: child.pid!,
    cli: { cmd: 'podman', args: podmanGlobalArgs(dir), env },
    stop: async () => {
      await stopDaemon(child, 10_000);
      // Containers keep running without the service (conmon owns them): reset removes them all, with
      // their networks, volumes and images.
      await run('podman', [...podmanGlobalArgs(dir), 'system', 'reset', '-f'], { env, timeoutMs: 120_000 }).catch(() => undefined);
    },
  };
}

async function startBerth(s: Setup): Promise<Started> {
  const { dir } = s;
  const socket = join(dir, 'berth.sock');
  const globals = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run')];
  const log = join(dir, 'berth.log');
  const child = startDaemon(berthBin, [...globals, 'system', 'service', '--time', '0', `unix://${socket}`], log);
  await waitForPing('berth', child, socket, log);
  return {
    socket,
    pid: child.pid!,
    cli: { cmd: berthBin, args: globals, env: {} },
    stop: async () => {
      await stopDaemon(child, 10_000);
      await run(berthBin, [...globals, 'rm', '-a', '-f', '-t', '0'], { timeoutMs: 120_000 }).catch(() => undefined);
      await run(berthBin, [...globals, 'system', 'reset', '-f'], { timeoutMs: 120_000 }).catch(() => undefined);
    },
  };
}

const starters: Record<EngineKind, (s: Setup) => Promise<Started>> = { dockerd: startDockerd, podman: startPodman, berth: startBerth };

/**
 * Starts one engine with the test image loaded and a registry beside it. The caller stops it in an
 * `after` hook; a test process killed before that is cleaned up after by the next start (its record
 * in /run/berth-test-engines), and the test runner kills what carries its BERTH_TEST_RUN mark.
 */
export async function startEngine(kind: EngineKind): Promise<DockerEngine> {
  sweepOrphans();
  mkdirSync(STATE_DIR, { recursive: true });
  const dir = join('/tmp', `berth-${kind}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const block = await freeBlock();
  const record: EngineRecord = { kind, owner: process.pid, dir, block };
  const recordFile = join(STATE_DIR, `${kind}-${block}-${process.pid}.json`);
  const saveRecord = () => writeFileSync(recordFile, JSON.stringify(record));
  saveRecord();
  let registry: Registry | undefined;
  let started: Started | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await started?.stop().catch(() => undefined);
    await registry?.stop();
    killProcessesMentioning(dir);
    removeHostState(record);
    removeDir(dir);
    rmSync(recordFile, { force: true });
  };
  try {
    registry = await startRegistry(join(dir, 'registry'));
    started = await starters[kind]({ dir, block, registry, record, saveRecord });
    const env = { DOCKER_HOST: `unix://${started.socket}`, DOCKER_CONFIG: join(dir, 'docker-config') };
    const cliCommand: CliCommand = started.cli ?? { cmd: 'docker', args: [], env };
    const docker = (args: string[], opts: RunOptions = {}) => run('docker', args, { ...opts, env: { ...env, ...opts.env } });
    const engine: DockerEngine = {
      kind,
      dir,
      socket: started.socket,
      pid: started.pid,
      env,
      registry: registry.host,
      subnet: (n) => {
        if (!(n >= 0 && n < 72)) throw new Error(`subnet ${n}: a test engine has 72 (0..71)`);
        return `10.${block}.${128 + n}.0/24`;
      },
      docker,
      dockerOk: async (args, opts = {}) => {
        const r = await docker(args, opts);
        if (r.code !== 0) throw new Error(`docker ${args.join(' ')} (${kind}) exited ${r.code}\n${r.stderr}\n${r.stdout}`);
        return r;
      },
      cli: (args, opts = {}) => run(cliCommand.cmd, [...cliCommand.args, ...args], { ...opts, env: { ...cliCommand.env, ...opts.env } }),
      cliCommand,
      stop,
    };
    // berth's service shares its store with the CLI, so the CLI loads its image (`docker load`
    // through the API is a scenario of its own); the anchors load it through their API.
    if (kind === 'berth') {
      const r = await engine.cli(['load', '-i', await testImageArchive()]);
      if (r.code !== 0) throw new Error(`berth load exited ${r.code}\n${r.stderr}`);
    } else await engine.dockerOk(['load', '-i', await testImageArchive()]);
    return engine;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Whether an engine's leftovers are gone: no process naming its directory, no link in its block. */
export function engineLeftovers(engine: DockerEngine): string[] {
  const block = engine.subnet(0).split('.').slice(0, 2).join('.');
  return [
    ...processesMentioning(engine.dir).map((p) => `process ${p}`),
    ...linksWithAddressIn([`${block}.`]).map((l) => `link ${l}`),
    ...(existsSync(engine.dir) ? [engine.dir] : []),
  ];
}
