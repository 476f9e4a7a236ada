import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContext, containerEnv, type ContainerEnv } from '../../testing/containers.js';

const context = buildContext;

describe('berth build: stdin, outputs, squash and RUN mounts', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  const runIn = async (image: string, script: string) => (await env.ok(['run', '--rm', '--network', 'none', image, 'sh', '-c', script])).stdout;
  const layers = async (image: string) => (JSON.parse((await env.ok(['image', 'inspect', image])).stdout)[0].RootFS.Layers as string[]).length;
  before(async () => {
    env = await containerEnv();
  });
  after(() => env.cleanup());

  it('reads the Containerfile from stdin with -f -, and a tar context from stdin with -', async () => {
    const dir = context(env, 'stdin', { 'hello.txt': 'hello\n' });
    await env.ok(['build', '-q', '-t', 'from-stdin', '-f', '-', dir], { input: 'FROM busybox\nCOPY hello.txt /hello.txt\n' });
    assert.equal(await runIn('from-stdin', 'cat /hello.txt'), 'hello\n');

    writeFileSync(join(dir, 'Containerfile'), 'FROM busybox\nCOPY hello.txt /in-tar.txt\n');
    const tar = spawnSync('tar', ['-c', '-C', dir, '.']).stdout;
    await env.ok(['build', '-q', '-t', 'tar-stdin', '-'], { input: tar });
    assert.equal(await runIn('tar-stdin', 'cat /in-tar.txt'), 'hello\n');
  });

  it('writes the final file system with -o type=local and type=tar, and still stores the image', async () => {
    const dir = context(env, 'output', { Containerfile: 'FROM busybox\nRUN echo out > /out.txt\n' });
    const dest = join(env.dir, 'out-local');
    const tarFile = join(env.dir, 'out.tar');
    await env.ok(['build', '-q', '-t', 'output', '-o', `type=local,dest=${dest}`, dir]);
    assert.equal(readFileSync(join(dest, 'out.txt'), 'utf8'), 'out\n');
    assert.ok(existsSync(join(dest, 'bin', 'busybox')));
    await env.ok(['build', '-q', '-o', `type=tar,dest=${tarFile}`, dir]);
    const listing = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(
      listing.some((l) => l.replace(/^\.?\//, '') === 'out.txt'),
      listing.slice(0, 5).join(' '),
    );
    assert.equal(await runIn('output', 'cat /out.txt'), 'out\n');
  });

  it('--squash and --layers=false make the build’s steps one layer over the base', async () => {
    const dir = context(env, 'squash', {
      'a.txt': 'a\n',
      Containerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo b > /b.txt && rm /bin/true && mkdir -p /d/e\nRUN rm /a.txt && echo c > /d/e/c\nENV X=1\n',
    });
    for (const flag of ['--squash', '--layers=false']) {
      const tag = `sq${flag.length}`;
      await env.ok(['build', '-q', flag, '-t', tag, dir]);
      assert.equal(await layers(tag), 2, flag);
      assert.equal(await runIn(tag, 'cat /b.txt /d/e/c; test -e /a.txt || echo no-a; test -e /bin/true || echo no-true; echo $X'), 'b\nc\nno-a\nno-true\n1\n');
    }
  });

  it('RUN --mount: a secret is readable and left out, a cache persists between builds, a tmpfs leaves nothing', async () => {
    const secret = join(env.dir, 'token');
    writeFileSync(secret, 's3cr3t');
    const dir = context(env, 'mounts', {
      Containerfile: [
        'FROM busybox',
        'RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /secret-len',
        'RUN --mount=type=cache,target=/cache echo x >> /cache/count && wc -l < /cache/count > /count',
        'RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && cat /scratch/t > /t',
        '',
      ].join('\n'),
    });
    await env.ok(['build', '-q', '--secret', `id=tok,src=${secret}`, '-t', 'mounts', dir]);
    assert.equal(await runIn('mounts', 'cat /secret-len /count /t; ls -A /run/secrets 2>/dev/null; ls -A /cache /scratch'), '6\n1\nt\n/cache:\n\n/scratch:\n');
    await env.ok(['build', '-q', '--no-cache', '--secret', `id=tok,src=${secret}`, '-t', 'mounts', dir]);
    assert.equal(await runIn('mounts', 'cat /count'), '2\n');
    const archive = join(env.dir, 'mounts.tar');
    await env.ok(['save', '-o', archive, 'mounts']);
    const x = join(env.dir, 'mounts-x');
    mkdirSync(x);
    spawnSync('tar', ['-xf', archive, '-C', x]);
    const grep = spawnSync('sh', ['-c', `for f in ${x}/*.tar ${x}/*/layer.tar; do [ -f "$f" ] && tar -xOf "$f" 2>/dev/null; done | grep -c s3cr3t`], {
      encoding: 'utf8',
    });
    assert.equal(grep.stdout.trim(), '0', 'the secret is in no layer');
  });
});
