import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../util/errors.js';
import { applyChanges } from './changes.js';

describe('--change instructions', () => {
  it('applies each instruction as podman import does', () => {
    const c = applyChanges({ Env: ['A=0'] }, [
      'CMD=/bin/sh',
      'ENTRYPOINT ["/init", "--x"]',
      'ENV A=1 B="two words"',
      'ENV C 3',
      'LABEL a=b c="d e"',
      'EXPOSE 80 53/udp',
      'VOLUME /data',
      'USER nobody',
      'WORKDIR /srv',
      'STOPSIGNAL SIGINT',
      'ONBUILD RUN true',
    ]);
    assert.deepEqual(c.Cmd, ['/bin/sh', '-c', '/bin/sh']);
    assert.deepEqual(c.Entrypoint, ['/init', '--x']);
    assert.deepEqual(c.Env, ['A=1', 'B=two words', 'C=3']);
    assert.deepEqual(c.Labels, { a: 'b', c: 'd e' });
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.equal(c.User, 'nobody');
    assert.equal(c.WorkingDir, '/srv');
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.OnBuild, ['RUN true']);
  });

  it('leaves the base config untouched', () => {
    const base = { Env: ['A=0'] };
    applyChanges(base, ['ENV A=1']);
    assert.deepEqual(base, { Env: ['A=0'] });
  });

  it('refuses unknown instructions and bad ports', () => {
    for (const bad of ['RUN ls', 'FROM x', 'CMD', 'EXPOSE eighty', 'nonsense']) {
      assert.throws(
        () => applyChanges({}, [bad]),
        (e: unknown) => e instanceof BerthError && e.code === 'USAGE',
        bad,
      );
    }
  });
});
