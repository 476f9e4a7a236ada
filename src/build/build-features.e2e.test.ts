import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

function context(env: ContainerEnv, name: string, files: Record<string, string>): string {
  const dir = join(env.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

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
    const tgz = spawnSync('sh', ['-c', 'cd "$(mktemp -d)" && echo x > x && tar -czf - x'], { maxBuffer: 1 << 20 }).stdout;
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
