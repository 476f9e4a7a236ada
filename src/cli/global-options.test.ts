import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { isBerthError } from '../util/errors.js';
import type { GlobalOptions } from './context.js';
import { GLOBAL_OPTIONS_WITH_VALUE, applyGlobalOptions, declareGlobalOptions } from './global-options.js';

function parsed(args: string[]): Command {
  const p = declareGlobalOptions(new Command('berth')).exitOverride();
  p.parse(args, { from: 'user' });
  return p;
}

function globals(args: string[]): GlobalOptions {
  return parsed(args).opts<GlobalOptions>();
}

/** The one-line error applyGlobalOptions gives for these flags. */
function refusal(args: string[]): string {
  try {
    applyGlobalOptions(parsed(args));
  } catch (e) {
    assert.ok(isBerthError(e), String(e));
    assert.equal(e.exitCode, 125);
    return e.message;
  }
  assert.fail(`${args.join(' ')} was accepted`);
}

describe('global options', { timeout: 10_000 }, () => {
  it("parses podman's global options", () => {
    const g = globals([
      '--storage-driver',
      'overlay',
      '--storage-opt',
      '',
      '--runtime',
      'runc',
      '--runtime-flag',
      'debug',
      '--runtime-flag',
      'log-format=json',
      '--tmpdir',
      '/t',
      '--cgroup-manager',
      'cgroupfs',
      '--events-backend',
      'file',
      '--noout',
      '--log-level',
      'warning',
    ]);
    assert.equal(g.storageDriver, 'overlay');
    assert.deepEqual(g.storageOpt, ['']);
    assert.equal(g.runtime, 'runc');
    assert.deepEqual(g.runtimeFlag, ['debug', 'log-format=json']);
    assert.equal(g.tmpdir, '/t');
    assert.equal(g.cgroupManager, 'cgroupfs');
    assert.equal(g.eventsBackend, 'file');
    assert.equal(g.noout, true);
    assert.equal(g.logLevel, 'warning');
  });

  it('knows which global options take a value (to find the command word)', () => {
    for (const o of ['--root', '--runroot', '--storage-driver', '--runtime', '--runtime-flag', '--tmpdir', '--out', '--url', '--log-level'])
      assert.ok(GLOBAL_OPTIONS_WITH_VALUE.has(o), o);
    for (const o of ['--noout', '--remote', '-r']) assert.ok(!GLOBAL_OPTIONS_WITH_VALUE.has(o), o);
  });

  it('accepts what berth can honour', () => {
    assert.doesNotThrow(() =>
      applyGlobalOptions(
        parsed([
          '--storage-driver',
          'overlay',
          '--storage-opt=',
          '--cgroup-manager',
          'cgroupfs',
          '--events-backend',
          'none',
          '--tmpdir',
          '/x',
          '--runtime',
          'sh',
        ]),
      ),
    );
  });

  it('refuses, in one line, what berth cannot honour', () => {
    assert.match(refusal(['--storage-driver', 'vfs']), /storage driver "vfs" is not supported: berth stores layers with overlay only/);
    assert.match(refusal(['--storage-opt', 'overlay.mount_program=/usr/bin/fuse-overlayfs']), /storage option "overlay.mount_program=.*" is not supported/);
    assert.match(refusal(['--cgroup-manager', 'systemd']), /cgroup manager "systemd" is not supported/);
    assert.match(refusal(['--events-backend', 'journald']), /events backend "journald" is not supported/);
    assert.match(refusal(['--events-backend', 'bogus']), /"bogus" is not a valid events backend/);
    assert.match(refusal(['--runtime', 'no-such-runtime-here']), /default OCI runtime "no-such-runtime-here" not found/);
    for (const remote of [['--remote'], ['-r'], ['--url', 'unix:///run/podman.sock'], ['--connection', 'x']])
      assert.match(refusal(remote), /no remote service/);
  });

  it('accepts a default mounts file that names no mount, and refuses one that does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-mounts-'));
    try {
      writeFileSync(join(dir, 'empty.conf'), '# none\n\n');
      writeFileSync(join(dir, 'mounts.conf'), '/usr/share/rhel/secrets:/run/secrets\n');
      assert.doesNotThrow(() => applyGlobalOptions(parsed(['--default-mounts-file', join(dir, 'empty.conf')])));
      assert.match(refusal(['--default-mounts-file', join(dir, 'mounts.conf')]), /berth adds no default mounts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
