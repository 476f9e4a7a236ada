import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContext, containerEnv, type ContainerEnv } from '../../testing/containers.js';
import { startRegistry } from '../../testing/registry.js';

const context = buildContext;

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

describe('berth build: ADD URL, COPY --parents/--exclude, RUN bind mounts, --platform, --pull', { timeout: 600_000 }, () => {
  let env: ContainerEnv;
  let server: Server;
  let base = '';
  /** What the server serves, by path; a missing path is a 404. */
  const served = new Map<string, { body: Buffer; headers?: Record<string, string> }>();
  const runIn = async (image: string, script: string) => (await env.ok(['run', '--rm', '--network', 'none', image, 'sh', '-c', script])).stdout;

  before(async () => {
    env = await containerEnv();
    server = createServer((req, res) => {
      const f = served.get(req.url ?? '');
      if (!f) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not here\n');
        return;
      }
      res.writeHead(200, { 'content-length': String(f.body.length), ...f.headers }).end(f.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    env.cleanup();
  });

  it('ADD <url> downloads into a directory or to a file name, 0600, Last-Modified as mtime, never extracted, --chown/--chmod applied', async () => {
    served.set('/files/hello.txt', { body: Buffer.from('hello remote\n'), headers: { 'last-modified': LAST_MODIFIED } });
    // Made in a directory of its own, removed after: a test leaves nothing in /tmp.
    const tgz = spawnSync('sh', ['-c', 'd=$(mktemp -d) && cd "$d" && echo x > x && tar -czf - x; rm -rf "$d"'], { maxBuffer: 1 << 20 }).stdout;
    served.set('/arch.tar.gz', { body: tgz });
    const dir = context(env, 'add-url', {
      Containerfile: [
        'FROM busybox',
        `ADD ${base}/files/hello.txt /dl/`,
        `ADD --chown=1000:1000 --chmod=640 ${base}/files/hello.txt /renamed.txt`,
        `ADD ${base}/arch.tar.gz /arch/`,
        '',
      ].join('\n'),
    });
    await env.ok(['build', '-q', '-t', 'add-url', dir]);
    assert.equal(
      await runIn('add-url', 'stat -c "%a %u:%g %Y" /dl/hello.txt /renamed.txt; cat /dl/hello.txt /renamed.txt; ls /arch'),
      `600 0:0 1445412480\n640 1000:1000 1445412480\nhello remote\nhello remote\narch.tar.gz\n`,
    );
    assert.equal((await runIn('add-url', 'sha256sum /arch/arch.tar.gz')).split(' ')[0], sha256(tgz).slice(7));

    // Unchanged remote content: every step is a cache hit. Changed: the ADD steps run again.
    const again = await env.ok(['build', '-t', 'add-url', dir]);
    assert.equal(again.stdout.match(/Using cache/g)?.length, 3);
    served.set('/files/hello.txt', { body: Buffer.from('changed\n'), headers: { 'last-modified': LAST_MODIFIED } });
    const changed = await env.ok(['build', '-t', 'add-url', dir]);
    assert.equal(changed.stdout.match(/Using cache/g)?.length ?? 0, 0);
    assert.equal(await runIn('add-url', 'cat /dl/hello.txt /renamed.txt'), 'changed\nchanged\n');
  });

  it('COPY/ADD --parents keep the source paths (from the /./ pivot), --exclude leaves out what its patterns match, both in the key', async () => {
    const dir = context(env, 'parents', {
      'x/a.txt': 'xa\n',
      'y/a.txt': 'ya\n',
      'y/keep/b.txt': 'yb\n',
      'app/src/main.txt': 'main\n',
      'app/src/skip.md': 'skip\n',
      'app/README.md': 'readme\n',
      'app/node_modules/dep/x.js': 'x\n',
      Containerfile: [
        'FROM busybox',
        'ARG EX=*.md',
        'COPY --parents x/a.txt y/a.txt /p/',
        'COPY --parents ./y/./keep/b.txt /pivot/',
        'COPY --exclude=$EX --exclude=node_modules app /e/',
        'COPY --exclude=y* --parents */a.txt /g/',
        'COPY --exclude=**/*.md --exclude=!README.md app /neg/',
        'ADD --parents --exclude=**/*.md app/src /add/',
        'COPY --from=busybox --parents /etc/./passwd /img/',
        '',
      ].join('\n'),
    });
    await env.ok(['build', '-q', '-t', 'parents', dir]);
    const listing = 'cd / && find p pivot e g neg add img -type f | sort';
    assert.equal(
      await runIn('parents', listing),
      [
        'add/app/src/main.txt',
        'e/src/main.txt',
        'e/src/skip.md', // as in .dockerignore, *.md matches at the top only
        'g/x/a.txt',
        'img/passwd',
        'neg/README.md',
        'neg/node_modules/dep/x.js',
        'neg/src/main.txt',
        'p/x/a.txt',
        'p/y/a.txt',
        'pivot/keep/b.txt',
        '',
      ].join('\n'),
    );
    assert.equal(await runIn('parents', 'cat /p/y/a.txt /pivot/keep/b.txt; stat -c %a /p/y'), 'ya\nyb\n755\n');

    // The same build hits the cache; another exclude pattern does not.
    const again = await env.ok(['build', '-t', 'parents', dir]);
    assert.equal(again.stdout.match(/Using cache/g)?.length, 7); // every COPY and ADD (ARG makes no image)
    const other = await env.ok(['build', '-t', 'parents-txt', '--build-arg', 'EX=*.txt', dir]);
    assert.match(other.stdout, /STEP 5\/9: COPY --exclude=\$EX[^\n]*\n(?!--> Using cache)/);
    assert.equal(await runIn('parents-txt', 'cd /e && find . -type f | sort'), './README.md\n./src/main.txt\n./src/skip.md\n');
  });

  it('RUN --mount=type=bind binds the context, a stage or an image read-only (rw: writes discarded), never in the layer, keyed on the context content', async () => {
    const dir = context(env, 'bind', {
      'data/a.txt': 'a\n',
      'data/sub/b.txt': 'b\n',
      'ignored.txt': 'ignored\n',
      '.dockerignore': 'ignored.txt\n',
      Containerfile: [
        'FROM busybox AS tools',
        'RUN mkdir /tools && echo tool > /tools/t.txt',
        'FROM busybox',
        'RUN --mount=type=bind,from=tools,source=/tools,target=/t cat /t/t.txt > /from-stage.txt',
        'RUN --mount=type=bind,from=busybox,source=/etc/passwd,target=/p.txt head -1 /p.txt > /from-image.txt',
        'RUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/a.txt /mnt/data/sub/b.txt > /out.txt && (touch /mnt/data/x 2>/dev/null && echo writable || echo read-only) >> /out.txt',
        'RUN --mount=type=bind,target=/ctx ls -A /ctx > /ctx-list.txt',
        'RUN --mount=type=bind,source=data,target=/mnt/rw,rw echo new > /mnt/rw/a.txt && touch /mnt/rw/created && cat /mnt/rw/a.txt > /rw-saw.txt',
        '',
      ].join('\n'),
    });
    await env.ok(['build', '-q', '-t', 'bind', dir]);
    assert.equal(
      await runIn(
        'bind',
        'cat /from-stage.txt /from-image.txt /out.txt /ctx-list.txt /rw-saw.txt; ls -A /mnt/data /mnt/rw /t /p.txt /ctx 2>&1 | wc -l; ls /mnt/data /mnt/rw 2>/dev/null | wc -l',
      ),
      'tool\nroot:x:0:0:root:/root:/bin/sh\na\nb\nread-only\n.dockerignore\nContainerfile\ndata\nnew\n5\n0\n',
    );
    assert.equal(await runIn('bind', 'test -e /t || test -e /ctx || test -e /p.txt || test -e /mnt/rw/created || echo none'), 'none\n');
    assert.equal(readFileSync(join(dir, 'data', 'a.txt'), 'utf8'), 'a\n', 'a rw bind never writes back to the context');

    // An ignored file changes nothing; a bound file reruns the steps that bind it.
    writeFileSync(join(dir, 'ignored.txt'), 'changed\n');
    const same = await env.ok(['build', '-t', 'bind', dir]);
    assert.equal(same.stdout.match(/Using cache/g)?.length, 6);
    writeFileSync(join(dir, 'data', 'a.txt'), 'a2\n');
    const changed = await env.ok(['build', '-t', 'bind', dir]);
    assert.equal(changed.stdout.match(/Using cache/g)?.length, 3);
    assert.equal(await runIn('bind', 'head -1 /out.txt'), 'a2\n');
  });

  it('--platform and FROM --platform= take the host platform (also as $BUILDPLATFORM/$TARGETPLATFORM) and refuse any other in one line', async () => {
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const host = `linux/${arch}`;
    const other = arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
    const dir = context(env, 'platform', {
      Containerfile: [
        'FROM --platform=$BUILDPLATFORM busybox AS b',
        'FROM --platform=$TARGETPLATFORM busybox',
        'ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH',
        'RUN echo "$TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT] $BUILDPLATFORM $BUILDOS $BUILDARCH" > /p',
        '',
      ].join('\n'),
    });
    await env.ok(['build', '-q', '--platform', host, '-t', 'platform', dir]);
    assert.equal(await runIn('platform', 'cat /p'), `${host} linux ${arch} [] ${host} linux ${arch}\n`);
    const info = JSON.parse((await env.ok(['image', 'inspect', 'platform'])).stdout)[0];
    assert.equal(info.Architecture, arch);

    const r = await env.berth(['build', '-q', '--platform', other, dir]);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, `Error: --platform ${other}: only the host platform ${host} can be built\n`);
    const fromDir = context(env, 'platform-from', { Containerfile: `FROM --platform=${other} busybox\nRUN true\n` });
    const f = await env.berth(['build', '-q', fromDir]);
    assert.notEqual(f.code, 0);
    assert.equal(f.stderr, `Error: FROM --platform=${other}: only the host platform ${host} can be built\n`);
  });

  it('--build-arg-file: KEY=VALUE lines, comments and blank lines skipped, --build-arg wins', async () => {
    const dir = context(env, 'argfile', {
      'args.conf': '# defaults\nA=from file\n\n  # indented comment\nB=file b\nC=x=y\n',
      Containerfile: 'FROM busybox\nARG A B C\nRUN echo "$A|$B|$C" > /args\n',
    });
    await env.ok(['build', '-q', '-t', 'argfile', '--build-arg-file', join(dir, 'args.conf'), '--build-arg', 'B=cli', dir]);
    assert.equal(await runIn('argfile', 'cat /args'), 'from file|cli|x=y\n');
  });

  it('--pull=always picks up a changed remote tag, the default (missing) does not, never/false refuse to pull', async () => {
    const reg = await startRegistry(join(env.dir, 'registry'));
    try {
      const ref = `${reg.host}/test/base:latest`;
      const push = async (marker: string) => {
        const d = context(env, `marker-${marker}`, { Containerfile: `FROM busybox\nRUN echo ${marker} > /marker\n` });
        await env.ok(['build', '-q', '-t', `marker-${marker}`, d]);
        await env.ok(['push', '-q', '--tls-verify=false', `marker-${marker}`, `docker://${ref}`]);
      };
      const dir = context(env, 'pull', { Containerfile: `FROM ${ref}\nRUN cat /marker > /seen\n` });
      const build = async (...flags: string[]) => {
        const r = await env.ok(['build', '-t', 'pulled', '--tls-verify=false', ...flags, dir]);
        return { pulled: r.stdout.includes(`Trying to pull ${ref}`), seen: await runIn('pulled', 'cat /seen') };
      };
      await push('one');
      assert.deepEqual(await build(), { pulled: true, seen: 'one\n' }); // absent: pulled
      await push('two');
      assert.deepEqual(await build(), { pulled: false, seen: 'one\n' });
      assert.deepEqual(await build('--pull=missing'), { pulled: false, seen: 'one\n' });
      assert.deepEqual(await build('--pull=always'), { pulled: true, seen: 'two\n' });
      await push('three');
      assert.deepEqual(await build('--pull-always'), { pulled: true, seen: 'three\n' });
      await push('four');
      // A bare --pull followed by the context: the context is not taken for a policy.
      const bare = await env.ok(['build', '-q', '-t', 'pulled', '--tls-verify=false', '--pull', dir]);
      assert.match(bare.stdout, /^[0-9a-f]{64}\n$/);
      assert.equal(await runIn('pulled', 'cat /seen'), 'four\n');
      assert.deepEqual(await build('--pull=never'), { pulled: false, seen: 'four\n' });

      const absent = context(env, 'pull-absent', { Containerfile: `FROM ${reg.host}/test/absent:1\nRUN true\n` });
      for (const flag of ['--pull=never', '--pull=false', '--pull-never']) {
        const r = await env.berth(['build', '-q', '--tls-verify=false', flag, absent]);
        assert.equal(r.code, 125, flag);
        assert.equal(r.stderr, `Error: creating build container: ${reg.host}/test/absent:1: image not known\n`, flag);
      }
    } finally {
      await reg.stop();
    }
  });

  it('ADD --checksum verifies the download; a mismatch or an HTTP error fails with one clear line and no image', async () => {
    const body = Buffer.from('checked content\n');
    served.set('/checked.txt', { body });
    const good = context(env, 'add-checksum', { Containerfile: `FROM busybox\nADD --checksum=${sha256(body)} ${base}/checked.txt /checked.txt\n` });
    await env.ok(['build', '-q', '-t', 'checked', good]);
    assert.equal(await runIn('checked', 'cat /checked.txt'), 'checked content\n');

    const wrong = sha256('something else');
    const bad = context(env, 'add-checksum-bad', { Containerfile: `FROM busybox\nADD --checksum=${wrong} ${base}/checked.txt /checked.txt\n` });
    const r = await env.berth(['build', '-q', '-t', 'checked-bad', bad]);
    assert.notEqual(r.code, 0);
    const errLines = r.stderr.trim().split('\n');
    assert.equal(errLines.length, 1, r.stderr);
    assert.match(errLines[0]!, new RegExp(`${base}/checked\\.txt.*expected ${wrong}, got ${sha256(body)}`));
    assert.notEqual((await env.berth(['image', 'inspect', 'checked-bad'])).code, 0);

    const missing = context(env, 'add-404', { Containerfile: `FROM busybox\nADD ${base}/nothing-here /x\n` });
    const m = await env.berth(['build', '-q', missing]);
    assert.notEqual(m.code, 0);
    assert.equal(m.stderr.trim().split('\n').length, 1, m.stderr);
    assert.match(m.stderr, new RegExp(`${base}/nothing-here: the server answered 404 Not Found`));
  });
});
