import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDeviceFlag } from './devices.js';
import { parseMemory } from './options.js';
import { parseCpuset, parseDeviceRule, parseMemorySwap, parseSysctl, parseTuning, parseUmask, tunedResources } from './tuning.js';

const plain = { hostNetwork: false, hostIpc: false, hostUts: false };

describe('run/create tuning flags', { timeout: 10_000 }, () => {
  test('--sysctl: namespaced keys only, and not in a namespace shared with the host', () => {
    assert.deepEqual(parseSysctl('net.ipv4.ip_forward=1', plain), ['net.ipv4.ip_forward', '1']);
    assert.deepEqual(parseSysctl('kernel.shm_rmid_forced=1', plain), ['kernel.shm_rmid_forced', '1']);
    assert.deepEqual(parseSysctl('fs.mqueue.msg_max=20', plain), ['fs.mqueue.msg_max', '20']);
    assert.throws(() => parseSysctl('kernel.panic=1', plain), /sysctl "kernel.panic" is not allowed/);
    assert.throws(() => parseSysctl('net.ipv4.ip_forward=1', { ...plain, hostNetwork: true }), /--network host/);
    assert.throws(() => parseSysctl('kernel.msgmax=1', { ...plain, hostIpc: true }), /--ipc host/);
    assert.throws(() => parseSysctl('noequals', plain), /expected KEY=VALUE/);
    // Comma-separated in one flag, as podman's string slice takes it.
    assert.deepEqual(parseTuning({ sysctl: ['net.ipv4.ip_forward=1,net.core.somaxconn=512'] }, { hostNetwork: false }).sysctls, {
      'net.ipv4.ip_forward': '1',
      'net.core.somaxconn': '512',
    });
  });

  test('--umask: octal, at most 0777', () => {
    assert.equal(parseUmask('077'), 0o077);
    assert.equal(parseUmask('0022'), 0o022);
    assert.throws(() => parseUmask('999'), /invalid umask string 999/);
    assert.throws(() => parseUmask('07777'), /invalid umask/);
  });

  test('cpusets, swap, ranges', () => {
    assert.equal(parseCpuset('0-3,5', '--cpuset-cpus'), '0-3,5');
    assert.throws(() => parseCpuset('3-1', '--cpuset-cpus'), /runs backwards/);
    assert.throws(() => parseCpuset('a', '--cpuset-mems'), /invalid --cpuset-mems "a"/);
    assert.equal(parseMemorySwap('-1'), -1);
    assert.equal(parseMemorySwap('1g'), 1024 ** 3);
    assert.throws(() => parseTuning({ cpuShares: '1' }, { hostNetwork: false }), /--cpu-shares "1": must be between 2 and 262144/);
    assert.throws(() => parseTuning({ oomScoreAdj: '1001' }, { hostNetwork: false }), /--oom-score-adj/);
    assert.throws(() => parseTuning({ memorySwappiness: '101' }, { hostNetwork: false }), /--memory-swappiness/);
    assert.throws(() => parseTuning({ shmSize: '0' }, { hostNetwork: false }), /--shm-size "0": must be greater than 0/);
  });

  test('--memory 0 is no limit, as in podman; below 6MB is still refused', () => {
    assert.equal(parseMemory('0'), 0);
    assert.throws(() => parseMemory('1m'), /minimum memory limit is 6MB/);
  });

  test('--memory-swap needs --memory and must not be below it; -1 is unlimited swap', () => {
    assert.throws(() => parseTuning({ memorySwap: '100m' }, { hostNetwork: false }), /you must provide a memory limit/);
    assert.throws(() => parseTuning({ memorySwap: '50m' }, { hostNetwork: false, memory: 100 * 1024 ** 2 }), /larger than memory limit/);
    assert.deepEqual(tunedResources({ memorySwap: -1 }, { memory: { limit: 10 } }).memory, { limit: 10, swap: -1 });
  });

  test("namespace modes: host, private names, another container's (container:NAME) or a path's (ns:PATH)", () => {
    assert.deepEqual(parseTuning({ pid: 'host', ipc: 'shareable', uts: 'host', cgroupns: 'private' }, { hostNetwork: false }).hostNamespaces, ['pid', 'uts']);
    const joined = parseTuning({ pid: 'container:x', ipc: 'container:y', uts: 'ns:/run/ns/uts', cgroupns: 'host' }, { hostNetwork: false });
    assert.deepEqual(joined.joinNamespaces, { pid: { container: 'x' }, ipc: { container: 'y' }, uts: { path: '/run/ns/uts' } });
    assert.deepEqual(joined.hostNamespaces, ['cgroup']);
    assert.throws(() => parseTuning({ uts: 'ns:relative' }, { hostNetwork: false }), /invalid --uts "ns:relative": the namespace path must be absolute/);
    assert.throws(() => parseTuning({ pid: 'container:' }, { hostNetwork: false }), /invalid --pid "container:"/);
    assert.throws(() => parseTuning({ ipc: 'bogus' }, { hostNetwork: false }), /invalid --ipc "bogus"/);
  });

  test('--device and --device-cgroup-rule', () => {
    assert.deepEqual(parseDeviceFlag('/dev/null'), { hostPath: '/dev/null', containerPath: '/dev/null', permissions: 'rwm' });
    assert.deepEqual(parseDeviceFlag('/dev/null:r'), { hostPath: '/dev/null', containerPath: '/dev/null', permissions: 'r' });
    assert.deepEqual(parseDeviceFlag('/dev/null:/dev/x:rw'), { hostPath: '/dev/null', containerPath: '/dev/x', permissions: 'rw' });
    assert.throws(() => parseDeviceFlag('/dev/null:/dev/x:rx'), /invalid device mode: rx/);
    assert.throws(() => parseDeviceFlag('/dev/null:dev/x'), /container path must be absolute/);
    assert.deepEqual(parseDeviceRule('c 1:3 rwm'), { type: 'c', major: 1, minor: 3, access: 'rwm' });
    assert.deepEqual(parseDeviceRule('a *:* m'), { type: 'a', access: 'm' });
    // podman's rules: a major alone means all its minors; its messages for each part refused.
    assert.deepEqual(parseDeviceRule('a 7 rmw'), { type: 'a', major: 7, access: 'rmw' });
    assert.deepEqual(parseDeviceRule('b 7:* rmw'), { type: 'b', major: 7, access: 'rmw' });
    assert.throws(() => parseDeviceRule('x 1:3 rwm'), /^BerthError: invalid device type in device-access-add: x$/);
    assert.throws(() => parseDeviceRule('b 7:* rmX'), /^BerthError: invalid device access in device-access-add: X$/);
    assert.throws(() => parseDeviceRule('b 7:2'), /^BerthError: invalid device cgroup rule requires type, major:Minor, and access rules: "b 7:2"$/);
    assert.throws(() => parseDeviceRule('a a:* rmw'), /^BerthError: strconv\.ParseUint: parsing "a": invalid syntax$/);
  });
});
