import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { effectiveCapabilities, parseCapabilities, DEFAULT_CAPABILITIES, ALL_CAPABILITIES } from './capabilities.js';
import {
  cpuQuota,
  parseCpus,
  parseEnvFile,
  parseEnvFlag,
  parseMemory,
  parsePidsLimit,
  parseSecurityOpts,
  parseSize,
  parseUlimit,
  parseUserFlag,
  parseWorkdirFlag,
  RLIM_INFINITY,
} from './options.js';

describe('run flag parsers', () => {
  test('sizes and --memory', () => {
    assert.equal(parseSize('512m', '--memory'), 512 * 1024 ** 2);
    assert.equal(parseSize('1g', '--memory'), 1024 ** 3);
    assert.equal(parseSize('1.5GB', '--memory'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('64k', 'x'), 65536);
    assert.equal(parseSize('100', 'x'), 100);
    assert.throws(() => parseSize('12 parsecs', '--memory'), /invalid --memory "12 parsecs"/);
    assert.throws(() => parseMemory('1m'), /minimum memory limit is 6MB/);
    assert.equal(parseMemory('6m'), 6 * 1024 ** 2);
    // podman: 0 is no limit, not a limit below the minimum.
    assert.equal(parseMemory('0'), 0);
    assert.equal(parseMemory('0b'), 0);
  });

  test('--cpus and --pids-limit', () => {
    assert.equal(parseCpus('0.5'), 0.5);
    assert.deepEqual(cpuQuota(0.5), { quota: 50000, period: 100000 });
    assert.throws(() => parseCpus('0'), /expected a positive number/);
    assert.throws(() => parseCpus('abc'), /invalid --cpus/);
    assert.throws(() => parseCpus('4096'), /range of CPUs/);
    assert.equal(parsePidsLimit('100'), 100);
    assert.equal(parsePidsLimit('-1'), -1);
    assert.throws(() => parsePidsLimit('1.5'), /invalid --pids-limit/);
  });

  test('--ulimit', () => {
    assert.deepEqual(parseUlimit('nofile=1024:2048'), { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 });
    assert.deepEqual(parseUlimit('nproc=64'), { type: 'RLIMIT_NPROC', soft: 64, hard: 64 });
    assert.deepEqual(parseUlimit('core=-1'), { type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY });
    assert.throws(() => parseUlimit('nofile=2048:1024'), /soft limit 2048 is above hard limit 1024/);
    assert.throws(() => parseUlimit('files=1'), /unknown limit "files"/);
    assert.throws(() => parseUlimit('nofile'), /expected name=soft\[:hard\]/);
    assert.throws(() => parseUlimit('nofile=x'), /"x" is not a number/);
  });

  test('--env-file', () => {
    assert.deepEqual(parseEnvFile('# comment\nA=1\n\n  B=two words\nHOME\r\nC=\n'), ['A=1', 'B=two words', 'HOME', 'C=']);
    assert.throws(() => parseEnvFile('BAD KEY=1'), /line 1: variable "BAD KEY" contains whitespaces/);
  });

  test('--security-opt', () => {
    assert.deepEqual(parseSecurityOpts([]), { noNewPrivileges: false, seccomp: 'default', mask: [], unmask: [] });
    assert.deepEqual(parseSecurityOpts(['no-new-privileges', 'seccomp=unconfined', 'label=disable', 'mask=/a:/b', 'unmask=ALL']), {
      noNewPrivileges: true,
      seccomp: 'unconfined',
      mask: ['/a', '/b'],
      unmask: ['ALL'],
    });
    assert.equal(parseSecurityOpts(['no-new-privileges:true']).noNewPrivileges, true);
    assert.equal(parseSecurityOpts(['seccomp=/etc/p.json']).seccomp, '/etc/p.json');
    assert.throws(() => parseSecurityOpts(['nonsense']), /invalid --security-opt "nonsense"/);
    assert.throws(() => parseSecurityOpts(['seccomp=']), /seccomp needs/);
  });

  test('capabilities: names, --cap-add/--cap-drop, privileged', () => {
    assert.deepEqual(parseCapabilities(['net_admin', 'CAP_SYS_TIME', 'chown,kill']), ['CAP_NET_ADMIN', 'CAP_SYS_TIME', 'CAP_CHOWN', 'CAP_KILL']);
    assert.throws(() => parseCapabilities(['FLY']), /unknown capability "FLY"/);
    assert.deepEqual(effectiveCapabilities({ privileged: false, capAdd: [], capDrop: [] }), DEFAULT_CAPABILITIES);
    const dropped = effectiveCapabilities({ privileged: false, capAdd: ['CAP_NET_ADMIN'], capDrop: ['CAP_CHOWN'] });
    assert.ok(dropped.includes('CAP_NET_ADMIN') && !dropped.includes('CAP_CHOWN'));
    assert.deepEqual(effectiveCapabilities({ privileged: false, capAdd: ['CAP_KILL'], capDrop: ['ALL'] }), ['CAP_KILL']);
    assert.deepEqual(
      effectiveCapabilities({ privileged: false, capAdd: ['ALL'], capDrop: ['CAP_SYS_ADMIN'] }),
      ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'),
    );
    assert.deepEqual(effectiveCapabilities({ privileged: true, capAdd: [], capDrop: ['CAP_KILL'] }), ALL_CAPABILITIES);
    assert.throws(() => effectiveCapabilities({ privileged: false, capAdd: ['CAP_KILL'], capDrop: ['CAP_KILL'] }), /both added and dropped/);
  });

  test('-e, -w and -u: what podman or the runtime would refuse later is refused now', { timeout: 5_000 }, () => {
    for (const ok of ['A=1', 'A', '', 'A B=1', 'A==']) assert.equal(parseEnvFlag(ok), ok);
    for (const bad of ['=x', '=', '==x']) assert.throws(() => parseEnvFlag(bad), { message: `invalid environment variable: "${bad}"` });
    assert.equal(parseWorkdirFlag('/srv/app'), '/srv/app');
    assert.throws(() => parseWorkdirFlag('rel'), { message: 'invalid workdir "rel", must be an absolute path' });
    assert.throws(() => parseWorkdirFlag('./x'), /must be an absolute path/);
    for (const ok of ['app', '1000', 'app:wheel', '1:2', ':2', 'app:']) assert.equal(parseUserFlag(ok), ok);
    assert.throws(() => parseUserFlag('a:b:c'), { message: 'invalid user "a:b:c": expected USER[:GROUP]' });
  });
});
