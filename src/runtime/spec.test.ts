import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fixture } from '../testing/fixtures.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './capabilities.js';
import { parseProcLimits } from './host.js';
import { parseSecurityOpts } from './options.js';
import { convertProfile } from './seccomp.js';
import { buildRuntimeSpec, INIT_PATH, MASKED_PATHS, READONLY_PATHS, serializeSpec, type SpecInput } from './spec.js';
import { parseTuning } from './tuning.js';

type AjvClass = typeof import('ajv-draft-04').default;

/** The runtime-spec's own schema (main: v1.3.0 has a broken $ref, see the fixtures README), compiled with ajv draft-04. */
function runtimeSpecValidator(): (doc: unknown) => boolean {
  let Ajv: AjvClass | undefined;
  for (const base of [import.meta.url, pathToFileURL(join(process.cwd(), 'index.js')).href]) {
    try {
      const mod = createRequire(base)('ajv-draft-04') as AjvClass & { default?: AjvClass };
      Ajv = mod.default ?? mod;
      break;
    } catch {
      /* next base */
    }
  }
  assert.ok(Ajv, 'ajv-draft-04 is not installed');
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('uri', (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s));
  const dir = fixture('schemas', 'runtime-spec-main');
  const base = 'https://opencontainers.org/schema/runtime/';
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(join(dir, file), 'utf8')) as object, base + file);
  }
  const validate = ajv.getSchema(`${base}config-schema.json`)!;
  return (doc) => {
    const ok = validate(doc) as boolean;
    if (!ok) console.error(JSON.stringify(validate.errors, null, 2));
    return ok;
  };
}

const LIMITS = parseProcLimits(`Limit                     Soft Limit           Hard Limit           Units
Max processes             96364                96364                processes
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
Max core file size        0                    unlimited            bytes
`);

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    rootfs: '/var/lib/berth/overlay/x/merged',
    args: ['sh', '-c', 'true'],
    env: ['PATH=/bin'],
    user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
    workdir: '/',
    terminal: false,
    hostname: 'abc',
    privileged: false,
    capAdd: [],
    capDrop: [],
    security: parseSecurityOpts([]),
    readOnly: false,
    mounts: [],
    resources: {},
    ulimits: [],
    network: { mode: 'private' },
    etcFiles: { hosts: '/r/hosts', resolvConf: '/r/resolv.conf', hostname: '/r/hostname' },
    cgroupsPath: '/berth/berth-x',
    annotations: {},
    host: {
      limits: LIMITS,
      canRaiseLimits: false,
      devices: [{ path: '/dev/kvm', type: 'c', major: 10, minor: 232, fileMode: 0o660, uid: 0, gid: 0 }],
      capabilities: ALL_CAPABILITIES,
    },
    ...over,
  };
}

const seccompProfile = () => JSON.parse(readFileSync('/usr/share/containers/seccomp.json', 'utf8')) as Parameters<typeof convertProfile>[0];
const roundTrip = (spec: ReturnType<typeof buildRuntimeSpec>) => JSON.parse(serializeSpec(spec)) as unknown;

describe('buildRuntimeSpec', () => {
  const valid = runtimeSpecValidator();

  test('the runtime-spec schema accepts its own good fixtures and rejects its bad ones', () => {
    const dir = fixture('schemas', 'runtime-spec-main', 'test', 'config');
    for (const kind of ['good', 'bad']) {
      for (const f of readdirSync(join(dir, kind))) {
        let doc: unknown;
        try {
          doc = JSON.parse(readFileSync(join(dir, kind, f), 'utf8'));
        } catch {
          assert.equal(kind, 'bad', f);
          continue;
        }
        assert.equal(valid(doc), kind === 'good', `${kind}/${f}`);
      }
    }
  });

  test('a default container: podman caps, masked paths, the device allow list, capped rlimits, schema-valid', () => {
    const spec = buildRuntimeSpec(input({ seccomp: convertProfile(seccompProfile(), { capabilities: DEFAULT_CAPABILITIES }) }));
    assert.ok(valid(roundTrip(spec)));
    assert.deepEqual(spec.process.capabilities?.bounding, DEFAULT_CAPABILITIES);
    assert.deepEqual(spec.process.capabilities?.effective, DEFAULT_CAPABILITIES);
    assert.deepEqual(spec.linux.maskedPaths, MASKED_PATHS);
    assert.deepEqual(spec.linux.readonlyPaths, READONLY_PATHS);
    assert.deepEqual(spec.linux.namespaces.map((n) => n.type).sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
    assert.deepEqual(spec.linux.resources?.devices[0], { allow: false, access: 'rwm' });
    // No CAP_SYS_RESOURCE: podman's 1048576 open files would fail, the host's hard limit is used.
    assert.deepEqual(
      spec.process.rlimits?.find((r) => r.type === 'RLIMIT_NOFILE'),
      { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
    );
    assert.deepEqual(
      spec.process.rlimits?.find((r) => r.type === 'RLIMIT_NPROC'),
      { type: 'RLIMIT_NPROC', soft: 96364, hard: 96364 },
    );
    const dests = spec.mounts.map((m) => m.destination);
    for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname'])
      assert.ok(dests.includes(d), d);
    assert.ok(dests.indexOf('/dev') < dests.indexOf('/dev/pts'));
    assert.ok(spec.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
    assert.ok(spec.linux.seccomp && spec.linux.seccomp.syscalls!.length > 0);
    assert.equal(spec.process.noNewPrivileges, false);
  });

  test('privileged: every capability and host device, no masks, no seccomp, /sys writable', () => {
    const spec = buildRuntimeSpec(input({ privileged: true }));
    assert.ok(valid(roundTrip(spec)));
    assert.deepEqual(spec.process.capabilities?.bounding, ALL_CAPABILITIES);
    assert.equal(spec.linux.maskedPaths, undefined);
    assert.equal(spec.linux.seccomp, undefined);
    assert.deepEqual(
      spec.linux.devices?.map((d) => d.path),
      ['/dev/kvm'],
    );
    assert.deepEqual(spec.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
    assert.ok(!spec.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
    // A host that withholds a capability from berth withholds it from privileged containers too.
    const withheld = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
    const limited = buildRuntimeSpec(input({ privileged: true, host: { ...input().host, capabilities: withheld } }));
    assert.deepEqual(limited.process.capabilities?.bounding, withheld);
    assert.throws(
      () => buildRuntimeSpec(input({ capAdd: ['CAP_SYS_RESOURCE'], host: { ...input().host, capabilities: withheld } })),
      /--cap-add CAP_SYS_RESOURCE: this host does not give berth that capability/,
    );
  });

  test('resources, ulimits, read-only, init, user mounts over defaults, host network', () => {
    const spec = buildRuntimeSpec(
      input({
        resources: { memory: 64 * 1024 * 1024, cpus: 1.5, pidsLimit: 50 },
        ulimits: ['nofile=1024:2048', 'core=-1'],
        readOnly: true,
        init: { hostPath: '/usr/bin/catatonit' },
        security: parseSecurityOpts(['no-new-privileges', 'unmask=/proc/kcore', 'mask=/proc/cpuinfo']),
        mounts: [
          { destination: '/etc/hosts', type: 'bind', source: '/mine', options: ['rbind', 'ro'] },
          { destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['rw'] },
        ],
        network: { mode: 'host' },
        user: { uid: 1000, gid: 1000, additionalGids: [10, 20], home: '/home/u' },
      }),
    );
    const doc = roundTrip(spec);
    assert.ok(valid(doc));
    // As podman: the swap limit defaults to twice the memory.
    assert.deepEqual(spec.linux.resources?.memory, { limit: 64 * 1024 * 1024, swap: 128 * 1024 * 1024 });
    assert.deepEqual(spec.linux.resources?.cpu, { quota: 150000, period: 100000 });
    assert.deepEqual(spec.linux.resources?.pids, { limit: 50 });
    // --memory=0 is no limit (podman), not a limit of 0 bytes.
    assert.equal(buildRuntimeSpec(input({ resources: { memory: 0 } })).linux.resources?.memory, undefined);
    assert.deepEqual(
      spec.process.rlimits?.find((r) => r.type === 'RLIMIT_NOFILE'),
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 },
    );
    assert.match(serializeSpec(spec), /"type": "RLIMIT_CORE",\s*"soft": 18446744073709551615,\s*"hard": 18446744073709551615/);
    assert.equal(spec.root.readonly, true);
    for (const d of ['/tmp', '/var/tmp', '/run']) assert.equal(spec.mounts.find((m) => m.destination === d)?.type, 'tmpfs');
    assert.deepEqual(spec.process.args, [INIT_PATH, '--', 'sh', '-c', 'true']);
    assert.equal(spec.mounts.find((m) => m.destination === INIT_PATH)?.source, '/usr/bin/catatonit');
    assert.equal(spec.process.noNewPrivileges, true);
    assert.ok(!spec.linux.maskedPaths?.includes('/proc/kcore'));
    assert.ok(spec.linux.maskedPaths?.includes('/proc/cpuinfo'));
    assert.deepEqual(
      spec.mounts.filter((m) => m.destination === '/etc/hosts'),
      [{ destination: '/etc/hosts', type: 'bind', source: '/mine', options: ['rbind', 'ro'] }],
    );
    assert.ok(!spec.linux.namespaces.some((n) => n.type === 'network'));
    assert.equal(spec.mounts.find((m) => m.destination === '/sys')?.type, 'bind');
    assert.deepEqual(spec.process.user, { uid: 1000, gid: 1000, umask: 0o022, additionalGids: [10, 20] });
  });

  test('a ulimit above the host hard limit is refused up front without CAP_SYS_RESOURCE', () => {
    assert.throws(() => buildRuntimeSpec(input({ ulimits: ['nofile=30000'] })), /--ulimit nofile=30000: the hard limit is above this host's 20000/);
    const spec = buildRuntimeSpec(
      input({ ulimits: ['nofile=30000'], host: { limits: LIMITS, canRaiseLimits: true, devices: [], capabilities: ALL_CAPABILITIES } }),
    );
    assert.deepEqual(
      spec.process.rlimits?.find((r) => r.type === 'RLIMIT_NOFILE'),
      { type: 'RLIMIT_NOFILE', soft: 30000, hard: 30000 },
    );
  });
});

describe('buildRuntimeSpec: the newer run/create flags', { timeout: 30_000 }, () => {
  const valid = runtimeSpecValidator();

  test('cgroup resources, host namespaces, sysctls, umask, OOM score, shm size, devices and personality, schema-valid', () => {
    const tuning = parseTuning(
      {
        cpuShares: '512',
        cpuPeriod: '50000',
        cpuQuota: '25000',
        cpusetCpus: '0-1',
        cpusetMems: '0',
        memorySwap: '200m',
        memoryReservation: '50m',
        memorySwappiness: '10',
        oomKillDisable: true,
        oomScoreAdj: '100',
        shmSize: '32m',
        umask: '077',
        pid: 'host',
        ipc: 'host',
        sysctl: ['net.ipv4.ip_forward=1'],
        personality: 'LINUX32',
        deviceCgroupRule: ['c 13:* rwm'],
      },
      { hostNetwork: false, memory: 100 * 1024 ** 2 },
    );
    const devices = [
      {
        hostPath: '/dev/kmsg',
        containerPath: '/dev/mykmsg',
        permissions: 'r',
        node: { type: 'c' as const, major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 },
      },
    ];
    const spec = buildRuntimeSpec(input({ resources: { memory: 100 * 1024 ** 2 }, tuning, devices }));
    assert.ok(valid(roundTrip(spec)));
    assert.deepEqual(spec.linux.resources?.memory, { limit: 104857600, swap: 209715200, reservation: 52428800, swappiness: 10, disableOOMKiller: true });
    assert.deepEqual(spec.linux.resources?.cpu, { shares: 512, period: 50000, quota: 25000, cpus: '0-1', mems: '0' });
    assert.deepEqual(spec.linux.namespaces.map((n) => n.type).sort(), ['cgroup', 'mount', 'network', 'uts']);
    assert.deepEqual(spec.linux.sysctl, { 'net.ipv4.ping_group_range': '0 0', 'net.ipv4.ip_forward': '1' });
    assert.equal(spec.process.user.umask, 0o077);
    assert.equal(spec.process.oomScoreAdj, 100);
    assert.ok(spec.mounts.find((m) => m.destination === '/dev/shm')?.options?.includes('size=32768k'));
    assert.deepEqual(spec.linux.devices, [{ path: '/dev/mykmsg', type: 'c', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 }]);
    assert.deepEqual(spec.linux.resources?.devices.slice(-2), [
      { allow: true, type: 'c', major: 1, minor: 11, access: 'r' },
      { allow: true, type: 'c', major: 13, access: 'rwm' },
    ]);
    assert.deepEqual(spec.linux.personality, { domain: 'LINUX32' });
  });

  test("defaults: swap twice the memory, podman's 64m /dev/shm, umask 0022; --memory 0 sets no limit", () => {
    const spec = buildRuntimeSpec(input({ resources: { memory: 64 * 1024 ** 2 } }));
    assert.deepEqual(spec.linux.resources?.memory, { limit: 67108864, swap: 134217728 });
    assert.ok(spec.mounts.find((m) => m.destination === '/dev/shm')?.options?.includes('size=65536k'));
    assert.equal(spec.process.user.umask, 0o022);
    assert.equal(buildRuntimeSpec(input({ resources: { memory: 0 } })).linux.resources?.memory, undefined);
  });

  test('--no-hosts drops the /etc/hosts bind; --read-only-tmpfs=false drops the tmpfs mounts of --read-only', () => {
    const spec = buildRuntimeSpec(input({ noHosts: true, readOnly: true, readOnlyTmpfs: false }));
    const dests = spec.mounts.map((m) => m.destination);
    assert.ok(!dests.includes('/etc/hosts'));
    assert.ok(!dests.includes('/tmp') && !dests.includes('/run'));
    const withTmpfs = buildRuntimeSpec(input({ readOnly: true })).mounts.map((m) => m.destination);
    assert.ok(withTmpfs.includes('/tmp') && withTmpfs.includes('/var/tmp') && withTmpfs.includes('/run'));
  });
});

describe("buildRuntimeSpec: a pod's member", { timeout: 10_000 }, () => {
  test("joins the infra's IPC, UTS and PID namespaces by path, and sets no hostname in a UTS namespace it joined", () => {
    const spec = buildRuntimeSpec(
      input({ network: { mode: 'private', path: '/proc/42/ns/net' }, joinNamespaces: { ipc: '/proc/42/ns/ipc', uts: '/proc/42/ns/uts' } }),
    );
    const ns = Object.fromEntries(spec.linux.namespaces.map((n) => [n.type, n.path]));
    assert.deepEqual(ns, { pid: undefined, ipc: '/proc/42/ns/ipc', uts: '/proc/42/ns/uts', mount: undefined, cgroup: undefined, network: '/proc/42/ns/net' });
    assert.equal(spec.hostname, undefined);
    assert.equal(buildRuntimeSpec(input({ joinNamespaces: { ipc: '/proc/42/ns/ipc' } })).hostname, input().hostname);
  });
});
