import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthBin, run } from '../../testing/cli.js';
import { buildContext, containerEnv, type ContainerEnv } from '../../testing/containers.js';

/** What a podman user's builds rely on: where -f is found, hard links, ignore files, BUILDAH_LAYERS. */
describe('berth build as podman builds', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  const runIn = async (image: string, script: string) => (await env.ok(['run', '--rm', '--network', 'none', image, 'sh', '-c', script])).stdout;
  before(async () => {
    env = await containerEnv();
  });
  after(() => env?.cleanup());

  it('finds a relative -f where the user stands first, then in the context', async () => {
    const ctx = buildContext(env, 'ffile', { Containerfile1: 'FROM busybox\nRUN echo from-context > /from\n' });
    const cwd = join(env.dir, 'elsewhere');
    mkdirSync(cwd);
    const build = (tag: string) =>
      run(berthBin, ['--root', env.root, '--runroot', env.runRoot, 'build', '-q', '--network', 'none', '-t', tag, '-f', 'Containerfile1', ctx], { cwd });
    const fromContext = await build('ffile-ctx');
    assert.equal(fromContext.code, 0, fromContext.stderr);
    assert.equal(await runIn('ffile-ctx', 'cat /from'), 'from-context\n');
    writeFileSync(join(cwd, 'Containerfile1'), 'FROM busybox\nRUN echo from-cwd > /from\n');
    const fromCwd = await build('ffile-cwd');
    assert.equal(fromCwd.code, 0, fromCwd.stderr);
    assert.equal(await runIn('ffile-cwd', 'cat /from'), 'from-cwd\n');
  });

  it('keeps hard links of the context as hard links, and a change of links is a new step', async () => {
    const ctx = buildContext(env, 'links', { 'keep/a': 'a\n', Containerfile: 'FROM busybox\nCOPY . /ctx/\n' });
    linkSync(join(ctx, 'keep', 'a'), join(ctx, 'keep', 'b'));
    await env.ok(['build', '-q', '-t', 'links', ctx]);
    const [a, b] = (await runIn('links', 'stat -c "%i %h" /ctx/keep/a /ctx/keep/b')).trim().split('\n');
    assert.equal(a, b, 'one inode for both names');
    assert.match(a!, / 2$/);
    // The same content as two separate files must not reuse the linked step from the cache.
    const copies = buildContext(env, 'copies', { 'keep/a': 'a\n', 'keep/b': 'a\n', Containerfile: 'FROM busybox\nCOPY . /ctx/\n' });
    await env.ok(['build', '-q', '-t', 'copies', copies]);
    assert.match((await runIn('copies', 'stat -c "%h" /ctx/keep/a')).trim(), /^1$/);
  });

  it('excludes as podman does, from .dockerignore or --ignorefile', async () => {
    // podman's own system test's files and patterns: an excluded directory is only walked into
    // when an exception names a path under it, so subdir2/sub1 stays out although !*/sub1* matches it.
    const files = [
      'test1',
      'test1.txt',
      'test2',
      'test2.txt',
      'subdir1/sub1',
      'subdir1/sub1.txt',
      'subdir1/sub2',
      'subdir1/sub2.txt',
      'subdir1/sub3',
      'subdir1/sub3.txt',
      'subdir2/sub1',
      'subdir2/sub1.txt',
      'subdir2/sub2',
      'subdir2/sub3',
      'other',
      'foo',
      'comment',
    ];
    const kept = ['comment', 'other', 'subdir1/sub1', 'subdir1/sub1.txt', 'subdir1/sub3', 'subdir1/sub3.txt', 'test2', 'test2.txt'];
    const patterns = '# comment\ntest*\n!test2*\nsubdir1\nsubdir2\n!*/sub1*\n!subdir1/sub3*\n/foo\n';
    const ctx = buildContext(env, 'ignore', Object.fromEntries([...files.map((f) => [f, `${f}\n`]), ['Containerfile', 'FROM busybox\nCOPY ./ /newdir/\n']]));
    const listed = async (tag: string) =>
      (await runIn(tag, 'cd /newdir && find . -type f | sort'))
        .trim()
        .split('\n')
        .map((l) => l.slice(2))
        .filter((f) => f !== 'Containerfile' && f !== '.dockerignore');
    const ignoreFile = join(env.dir, 'my-ignore');
    writeFileSync(ignoreFile, patterns);
    await env.ok(['build', '-q', '--ignorefile', ignoreFile, '-t', 'ign-flag', ctx]);
    assert.deepEqual(await listed('ign-flag'), kept);
    writeFileSync(join(ctx, '.dockerignore'), patterns);
    await env.ok(['build', '-q', '-t', 'ign-file', ctx]);
    assert.deepEqual(await listed('ign-file'), kept);
    const missing = await env.berth(['build', '-q', '--ignorefile', join(env.dir, 'nope'), ctx]);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /^Error: --ignorefile .*nope: no such file$/m);
  });

  it('takes --ulimit, --security-opt and --logfile for its RUN steps, as podman build does', async () => {
    const ctx = buildContext(env, 'limits', {
      Containerfile: 'FROM busybox\nRUN grep Seccomp: /proc/self/status\nRUN grep "Max open files" /proc/self/limits\n',
    });
    const limited = await env.ok(['build', '--ulimit', 'nofile=101:102', ctx]);
    assert.match(limited.stdout, /^Seccomp:\s+2$/m);
    assert.match(limited.stdout, /^Max open files\s+101\s+102\s/m);
    assert.match((await env.ok(['build', '--security-opt', 'seccomp=unconfined', ctx])).stdout, /^Seccomp:\s+0$/m);
    const logfile = join(env.dir, 'build.log');
    const logged = await env.ok(['build', '--logfile', logfile, ctx]);
    assert.match(readFileSync(logfile, 'utf8'), /^COMMIT$/m);
    assert.match(logged.stdout, /^[0-9a-f]{64}\n$/, 'only the image ID on stdout');
  });

  it('words failures as podman does: the credentials file, the base image, the step', async () => {
    const authfile = await env.berth(['build', '--authfile=/nonexistent/bogus', '-'], { input: 'FROM scratch\n' });
    assert.deepEqual([authfile.code, authfile.stderr], [125, 'Error: credential file is not accessible: stat /nonexistent/bogus: no such file or directory\n']);
    const base = buildContext(env, 'nobase', { Containerfile: 'FROM quay.io/libpod/nosuchimage:nosuchtag\nRUN true\n' });
    const pullNever = await env.berth(['build', '--pull-never', base]);
    assert.equal(pullNever.code, 125);
    assert.match(pullNever.stderr, /^Error: creating build container: quay.io\/libpod\/nosuchimage:nosuchtag: image not known$/m);
    const ignored = buildContext(env, 'ignored', {
      '.dockerignore': '*\nsubdir\n!*/sub1*\n',
      'subdir/x': 'x\n',
      Containerfile: 'FROM busybox\nCOPY ./ ./\nCOPY subdir ./\n',
    });
    const copy = await env.berth(['build', ignored]);
    assert.equal(copy.code, 125);
    assert.match(copy.stderr, /^Error: building at STEP "COPY subdir \.\/": /m);
  });

  it('takes BUILDAH_LAYERS=false as --layers=false', async () => {
    const ctx = buildContext(env, 'layers', { 'a.txt': 'a\n', Containerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo b > /b.txt\n' });
    const all = async () => (await env.ok(['images', '-a', '-q', '--no-trunc'])).stdout.trim().split('\n').sort();
    const before = await all();
    const r = await env.berth(['build', '-q', '-t', 'nolayers', ctx], { env: { BUILDAH_LAYERS: 'false' } });
    assert.equal(r.code, 0, r.stderr);
    const layers = JSON.parse((await env.ok(['image', 'inspect', 'nolayers'])).stdout)[0].RootFS.Layers as string[];
    assert.equal(layers.length, 2, 'the base and one layer for the build');
    // As buildah keeps no intermediate image without layers: the build leaves its image and nothing else.
    assert.deepEqual(await all(), [...before, `sha256:${r.stdout.trim()}`].sort());
    await env.ok(['rmi', 'nolayers']);
    assert.deepEqual(await all(), before);
    const bad = await env.berth(['build', '-q', ctx], { env: { BUILDAH_LAYERS: 'maybe' } });
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid BUILDAH_LAYERS "maybe"/m);
  });
});
