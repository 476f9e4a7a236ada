import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BerthError } from '../../util/errors.js';
import { logDriverOf, mergeEnv, parseRestartPolicy, processArgs } from './process-config.js';

describe('Docker rules for a container process', { timeout: 10_000 }, () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['default', 'args'] };

  it('--entrypoint replaces Entrypoint and clears Cmd; a command replaces Cmd', () => {
    assert.deepEqual(processArgs(image, {}), { entrypoint: ['/entry'], command: ['default', 'args'] });
    assert.deepEqual(processArgs(image, { command: ['other'] }), { entrypoint: ['/entry'], command: ['other'] });
    assert.deepEqual(processArgs(image, { entrypoint: '/bin/sh' }), { entrypoint: ['/bin/sh'], command: [] });
    assert.deepEqual(processArgs(image, { entrypoint: '["/bin/sh","-c"]', command: ['echo hi'] }), { entrypoint: ['/bin/sh', '-c'], command: ['echo hi'] });
    // An empty --entrypoint clears it; text that only looks like JSON is one word, as docker takes it.
    assert.deepEqual(processArgs(image, { entrypoint: '' }), { entrypoint: [], command: [] });
    assert.deepEqual(processArgs(image, { entrypoint: '[not json' }), { entrypoint: ['[not json'], command: [] });
  });

  it('restart policies: the four names, a retry count only for on-failure', () => {
    assert.deepEqual(parseRestartPolicy(undefined), { name: 'no', maxRetries: 0 });
    assert.deepEqual(parseRestartPolicy('on-failure:3'), { name: 'on-failure', maxRetries: 3 });
    assert.deepEqual(parseRestartPolicy('unless-stopped'), { name: 'unless-stopped', maxRetries: 0 });
    assert.throws(() => parseRestartPolicy('on-failure:-1'), /retry count "-1"/);
    assert.throws(() => parseRestartPolicy('always:2'), /invalid restart policy "always:2"/);
    assert.throws(() => parseRestartPolicy('sometimes'), /invalid restart policy "sometimes"/);
  });

  it('the environment: PATH and the image, less --unsetenv, then env files, then -e; container, TERM and HOSTNAME set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-env-'));
    try {
      const file = join(dir, 'env');
      writeFileSync(file, '# a comment\nFROM_FILE=1\nIMAGE_VAR=file\n');
      const env = await mergeEnv(['IMAGE_VAR=image', 'DROPPED=x'], [file], ['FROM_FLAG=2'], { tty: true, hostname: 'h1', unset: ['DROPPED'] });
      assert.deepEqual(env.sort(), [
        'FROM_FILE=1',
        'FROM_FLAG=2',
        'HOSTNAME=h1',
        'IMAGE_VAR=file',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'TERM=xterm',
        'container=berth',
      ]);
      const bare = await mergeEnv([], [], [], { tty: false, hostname: 'h2', unsetAll: true });
      assert.deepEqual(bare, ['HOSTNAME=h2']);
      await assert.rejects(mergeEnv([], [join(dir, 'missing')], [], { tty: false, hostname: 'h' }), /reading env file .*missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--log-driver: k8s-file (json-file its alias) or none; passthrough and journald refused with why', () => {
    for (const v of [undefined, '', 'k8s-file', 'json-file']) assert.equal(logDriverOf(v), 'k8s-file');
    assert.equal(logDriverOf('none'), 'none');
    for (const v of ['passthrough', 'journald']) {
      assert.throws(
        () => logDriverOf(v),
        (e: unknown) => e instanceof BerthError && e.code === 'USAGE' && e.message.startsWith(`--log-driver ${v} is not supported by berth`),
      );
    }
    assert.throws(() => logDriverOf('syslog'), { message: 'invalid log driver: syslog' });
  });
});
