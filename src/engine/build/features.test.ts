import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatPlatform, hostPlatform } from '../../oci/platform.js';
import { BerthError } from '../../util/errors.js';
import { keepParents } from './copy.js';
import { parseChecksum } from './remote.js';
import { checkPlatform, planBuild } from './stages.js';

const src = (rel: string) => ({ path: `/ctx/${rel}`, rel, isDir: false });

it('--parents keeps the whole path, or what follows the /./ pivot', () => {
  assert.deepEqual(
    keepParents([src('x/a.txt')], 'x/a.txt').map((s) => s.keep),
    ['x/a.txt'],
  );
  assert.deepEqual(
    keepParents([src('y/keep/b.txt')], './y/./keep/b.txt').map((s) => s.keep),
    ['keep/b.txt'],
  );
  assert.deepEqual(
    keepParents([src('a/b/c.txt'), src('a/b/d.txt')], 'a/./b/*.txt').map((s) => s.keep),
    ['b/c.txt', 'b/d.txt'],
  );
  assert.deepEqual(
    keepParents([src('etc/passwd')], '/etc/./passwd').map((s) => s.keep),
    ['passwd'],
  );
});

it('--platform: the host (also in a list, or as $BUILDPLATFORM in FROM) passes, another fails in one line', () => {
  const host = formatPlatform(hostPlatform());
  checkPlatform(host, '--platform ');
  checkPlatform(`${host},${host}`, '--platform ');
  const other = hostPlatform().architecture === 'arm64' ? 'linux/amd64' : 'linux/arm64';
  assert.throws(
    () => checkPlatform(other, '--platform '),
    (e: unknown) => e instanceof BerthError && e.message === `--platform ${other}: only the host platform ${host} can be built`,
  );
  assert.throws(() => checkPlatform(`${host},${other}`, '--platform '), /only the host platform/);
  assert.throws(
    () => planBuild(`FROM --platform=${other} busybox\n`, { buildArgs: new Map() }),
    /^BerthError: FROM --platform=linux\/\w+: only the host platform/,
  );
  planBuild('FROM --platform=$BUILDPLATFORM busybox AS a\nFROM --platform=${TARGETPLATFORM} a\n', { buildArgs: new Map() });
});

it('RUN --mount=type=bind,from=STAGE makes the planner build that stage', () => {
  const plan = planBuild('FROM busybox AS tools\nFROM busybox AS unused\nFROM busybox\nRUN --mount=type=bind,from=tools,target=/t true\n', {
    buildArgs: new Map(),
  });
  assert.deepEqual(
    plan.needed.map((s) => s.name ?? s.index),
    ['tools', 2],
  );
});

it('--checksum takes sha256:<64 hex> only', () => {
  const hex = 'A'.repeat(64);
  assert.equal(parseChecksum(`sha256:${hex}`, 1), `sha256:${hex.toLowerCase()}`);
  assert.throws(() => parseChecksum('sha256:abc', 3), /invalid --checksum=sha256:abc: sha256:<64 hex digits> is expected \(line 3\)/);
  assert.throws(() => parseChecksum(`md5:${hex}`, 3), /invalid --checksum/);
});
