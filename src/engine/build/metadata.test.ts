import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDockerfile } from '../../dockerfile/index.js';
import { applyMetadata } from './metadata.js';

const ins = (line: string) => parseDockerfile(`${line}\n`).instructions[0]!;
const apply = (line: string) =>
  applyMetadata(
    {},
    ins(line),
    (w) => w,
    (w) => (w === '' ? [] : w.split(' ')),
    { cmdSet: false },
  );

describe('metadata instructions refuse what buildah refuses', { timeout: 5_000 }, () => {
  test('ENV, LABEL, EXPOSE and USER with no arguments', () => {
    assert.throws(() => apply('ENV'), { message: 'ENV requires at least one argument (line 1)' });
    assert.throws(() => apply('LABEL'), { message: 'LABEL requires at least one argument (line 1)' });
    assert.throws(() => apply('EXPOSE'), { message: 'EXPOSE requires at least one argument (line 1)' });
    assert.throws(() => apply('USER'), { message: 'USER requires exactly one argument (line 1)' });
    assert.deepEqual(apply('ENV A=1').config.Env, ['A=1']);
    assert.deepEqual(apply('LABEL a=b').config.Labels, { a: 'b' });
  });

  test('a VOLUME that resolves to the root itself', () => {
    for (const p of ['..', '/..', '/a/..', '/']) assert.throws(() => apply(`VOLUME ${p}`), /VOLUME ".*": destination can't be '\/' \(line 1\)$/);
    assert.throws(() => apply('VOLUME ["/data", "/x/.."]'), { message: "VOLUME \"/x/..\": destination can't be '/' (line 1)" });
    assert.deepEqual(apply('VOLUME /a/../b /data').config.Volumes, { '/a/../b': {}, '/data': {} });
  });

  test('STOPSIGNAL takes only a signal', () => {
    assert.throws(() => apply('STOPSIGNAL FOO'), { message: 'Invalid signal: FOO (line 1)' });
    assert.throws(() => apply('STOPSIGNAL 65'), { message: 'Invalid signal: 65 (line 1)' });
    assert.equal(apply('STOPSIGNAL SIGUSR1').config.StopSignal, 'SIGUSR1');
    assert.equal(apply('STOPSIGNAL 9').config.StopSignal, '9');
  });
});
