import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContext, containerEnv, type ContainerEnv } from '../../testing/containers.js';

const context = buildContext;

const lastLine = (s: string) => s.trimEnd().split('\n').at(-1)!;

async function inspect(env: ContainerEnv, name: string): Promise<Record<string, any>> {
  const r = await env.ok(['image', 'inspect', name]);
  return (JSON.parse(r.stdout) as Record<string, any>[])[0]!;
}

describe('berth build', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  before(async () => {
    env = await containerEnv();
  });
  after(() => env.cleanup());

  it('builds a single-stage image whose files, env, workdir, user and CMD hold when it runs', async () => {
    const dir = context(env, 'single', {
      'app.txt': 'from the context\n',
      'conf/a.conf': 'a=1\n',
      Containerfile: [
        'ARG BASE=busybox',
        'FROM $BASE',
        'ARG GREETING=hello',
        'ENV APP_HOME=/srv/app MODE="two words"',
        'WORKDIR $APP_HOME',
        'COPY --chmod=640 --chown=1000:1000 app.txt ./',
        'COPY conf /etc/myconf/',
        'RUN echo "$GREETING $MODE" > greeting && mkdir data && chown 1000 data',
        'LABEL org.example.role=test "quoted key"="v 2"',
        'EXPOSE 8080 53/udp',
        'VOLUME /srv/app/data',
        'STOPSIGNAL SIGINT',
        'USER 1000',
        'CMD ["cat", "greeting"]',
        '',
      ].join('\n'),
    });
    const r = await env.ok(['build', '-t', 'single', '-t', 'single:v2', '--build-arg', 'GREETING=hi', '--label', 'extra=1', dir]);
    assert.match(r.stdout, /^STEP 1\/13: FROM \$BASE$/m);
    assert.match(r.stdout, /^STEP 7\/13: RUN echo/m);
    assert.match(r.stdout, /^COMMIT localhost\/single:latest$/m);
    assert.match(r.stdout, /^Successfully tagged localhost\/single:v2$/m);
    const id = lastLine(r.stdout);
    assert.match(id, /^[0-9a-f]{64}$/);

    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'single'])).stdout, 'hi two words\n');
    const probe = await env.ok([
      'run',
      '--rm',
      '--network',
      'none',
      'single',
      'sh',
      '-c',
      'id -u; pwd; echo "$MODE"; stat -c "%a %u:%g" app.txt; cat app.txt /etc/myconf/a.conf',
    ]);
    assert.equal(probe.stdout, '1000\n/srv/app\ntwo words\n640 1000:1000\nfrom the context\na=1\n');

    const info = await inspect(env, 'single:v2');
    assert.equal(info['Id'], id);
    const config = info['Config'];
    assert.deepEqual(config.Cmd, ['cat', 'greeting']);
    assert.equal(config.WorkingDir, '/srv/app');
    assert.equal(config.User, '1000');
    assert.equal(config.StopSignal, 'SIGINT');
    assert.ok(config.Env.includes('APP_HOME=/srv/app'));
    assert.ok(config.Env.includes('MODE=two words'));
    assert.ok(!config.Env.some((e: string) => e.startsWith('GREETING=')), 'an ARG is not kept in the image');
    assert.deepEqual(config.Labels, { 'org.example.role': 'test', 'quoted key': 'v 2', extra: '1' });
    assert.deepEqual(config.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual(config.Volumes, { '/srv/app/data': {} });
    const history = info['History'] as { created_by: string; empty_layer?: boolean }[];
    // busybox's one layer, then 12 steps (ARG makes none): 3 layers (2 COPY, 1 RUN), the rest empty.
    const fromBuild = history.slice(1);
    assert.equal(fromBuild.filter((h) => !h.empty_layer).length, 3);
    assert.ok(fromBuild.find((h) => h.created_by.includes('ENV APP_HOME=/srv/app'))?.empty_layer);
    assert.ok(fromBuild.find((h) => h.created_by.includes('EXPOSE 8080 53/udp'))?.empty_layer);
    assert.equal(fromBuild.find((h) => h.created_by.includes('echo "$GREETING $MODE"'))?.empty_layer, undefined);
    assert.equal((info['RootFS'].Layers as string[]).length, 4);
  });

  it('fails on a failing RUN with its exit code and output, and tags nothing', async () => {
    const dir = context(env, 'failing', {
      Dockerfile: 'FROM busybox\nRUN echo before\nRUN echo "going down" && exit 7\nCMD ["true"]\n',
    });
    const r = await env.berth(['build', '-t', 'failing', dir]);
    assert.equal(r.code, 7);
    assert.match(r.stderr, /exit status 7/);
    assert.match(r.stderr, /^Error: building at STEP "RUN echo "going down" && exit 7": .*exit status 7$/m);
    assert.match(r.stdout, /^going down$/m);
    const images = await env.ok(['images', '--format', '{{.Repository}}']);
    assert.doesNotMatch(images.stdout, /failing/);
    assert.notEqual((await env.berth(['image', 'inspect', 'failing'])).code, 0);
  });

  it('reuses the cache for every step, and reruns exactly from a COPY whose file changed', async () => {
    const dir = context(env, 'cached', {
      'one.txt': '1\n',
      'two.txt': '2\n',
      Containerfile: [
        'FROM busybox',
        'ENV STAGE=cache',
        'RUN echo first > /first',
        'COPY one.txt /one.txt',
        'RUN cat /one.txt > /copied && cat /proc/sys/kernel/random/uuid > /stamp',
        'COPY two.txt /two.txt',
        'CMD ["cat", "/copied"]',
        '',
      ].join('\n'),
    });
    const first = await env.ok(['build', '-t', 'cached', dir]);
    assert.doesNotMatch(first.stdout, /Using cache/);
    const firstStamp = (await env.ok(['run', '--rm', '--network', 'none', 'cached', 'cat', '/stamp'])).stdout;

    const again = await env.ok(['build', '-t', 'cached', dir]);
    assert.equal(again.stdout.match(/^--> Using cache [0-9a-f]{64}$/gm)?.length, 6);
    assert.equal(lastLine(again.stdout), lastLine(first.stdout));

    // A touch that changes no content is no change; a content change reruns from that COPY on.
    writeFileSync(join(dir, 'two.txt'), '2\n');
    assert.equal(lastLine((await env.ok(['build', '-t', 'cached', dir])).stdout), lastLine(first.stdout));
    writeFileSync(join(dir, 'one.txt'), 'changed\n');
    const changed = await env.ok(['build', '-t', 'cached', dir]);
    const steps = changed.stdout.split(/^(?=STEP )/m).filter((s) => s.startsWith('STEP '));
    assert.equal(steps.length, 7);
    const reused = steps.map((s) => /Using cache/.test(s));
    assert.deepEqual(reused, [false, true, true, false, false, false, false]); // FROM prints no cache line
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'cached'])).stdout, 'changed\n');
    assert.notEqual((await env.ok(['run', '--rm', '--network', 'none', 'cached', 'cat', '/stamp'])).stdout, firstStamp);

    // The steps' images are intermediate: listed only with --all.
    const stepIds = [...changed.stdout.matchAll(/^--> ([0-9a-f]{11})$/gm)].map((m) => m[1]!);
    const finalShort = lastLine(changed.stdout).slice(0, 11);
    const listed = (await env.ok(['images', '--format', '{{.ID}}'])).stdout;
    const listedAll = (await env.ok(['images', '-a', '--format', '{{.ID}}'])).stdout;
    assert.ok(listed.includes(finalShort));
    for (const step of stepIds.filter((s) => s !== finalShort)) {
      assert.ok(!listed.includes(step), `intermediate ${step} hidden`);
      assert.ok(listedAll.includes(step), `intermediate ${step} listed with -a`);
    }

    const nocache = await env.ok(['build', '--no-cache', '-t', 'cached', dir]);
    assert.doesNotMatch(nocache.stdout, /Using cache/);
  });

  it('builds multi-stage with COPY --from a stage, an index and an image, and stops at --target', async () => {
    const dir = context(env, 'multi', {
      'src.txt': 'source\n',
      Containerfile: [
        'FROM busybox AS builder',
        'COPY src.txt /work/',
        'RUN cat /work/src.txt > /work/built && echo built-by-builder >> /work/built',
        '',
        'FROM busybox AS unused',
        'RUN echo this stage must not run && exit 9',
        '',
        'FROM scratch AS final',
        'COPY --from=builder /work/built /built',
        'COPY --from=0 /work/src.txt /again.txt',
        'COPY --from=busybox /bin/busybox /bin/busybox',
        'CMD ["/bin/busybox", "cat", "/built", "/again.txt"]',
        '',
        'FROM busybox AS other',
        'RUN echo other > /other',
        '',
      ].join('\n'),
    });
    const r = await env.ok(['build', '--target', 'final', '-t', 'multi', '--iidfile', join(env.dir, 'iid'), dir]);
    assert.doesNotMatch(r.stdout, /must not run|other/);
    assert.match(r.stdout, /^\[1\/2\] STEP 1\/3: FROM busybox AS builder$/m);
    assert.match(r.stdout, /^\[2\/2\] STEP 1\/5: FROM scratch AS final$/m);
    assert.equal(readFileSync(join(env.dir, 'iid'), 'utf8'), `sha256:${lastLine(r.stdout)}`);
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'multi'])).stdout, 'source\nbuilt-by-builder\nsource\n');
    const info = await inspect(env, 'multi');
    assert.equal((info['RootFS'].Layers as string[]).length, 3, 'only the final stage’s layers');
  });

  it('leaves out what .dockerignore excludes, and Containerfile.dockerignore wins over it', async () => {
    const dir = context(env, 'ignored', {
      'keep.txt': 'keep\n',
      'secret.env': 'TOKEN=1\n',
      'logs/a.log': 'log\n',
      'logs/important.log': 'important\n',
      '.dockerignore': 'secret.env\nlogs\n!logs/important.log\n',
      Containerfile: 'FROM busybox\nCOPY . /ctx/\nCMD ["sh"]\n',
    });
    await env.ok(['build', '-t', 'ignored', dir]);
    const ls = await env.ok(['run', '--rm', '--network', 'none', 'ignored', 'sh', '-c', 'cd /ctx && find . -type f | sort']);
    assert.equal(ls.stdout, './.dockerignore\n./Containerfile\n./keep.txt\n./logs/important.log\n');

    const missing = await env.berth(['build', '-t', 'ignored2', '-f', join(dir, 'Containerfile.other'), dir]);
    assert.notEqual(missing.code, 0);
    writeFileSync(join(dir, 'Containerfile.other'), 'FROM busybox\nCOPY secret.env /s\n');
    const excluded = await env.berth(['build', '-t', 'ignored2', '-f', join(dir, 'Containerfile.other'), dir]);
    assert.notEqual(excluded.code, 0);
    assert.match(excluded.stderr, /secret\.env.*no such file/);
    writeFileSync(join(dir, 'Containerfile.other.dockerignore'), 'keep.txt\n');
    await env.ok(['build', '-t', 'ignored2', '-f', join(dir, 'Containerfile.other'), dir]);
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'ignored2', 'cat', '/s'])).stdout, 'TOKEN=1\n');
  });

  it('prints only the image ID with -q and writes a docker-format image with --format docker', async () => {
    const dir = context(env, 'quiet', { Containerfile: 'FROM busybox\nENTRYPOINT ["echo"]\nCMD ["x"]\n' });
    const r = await env.ok(['build', '-q', '--format', 'docker', '-t', 'quiet', dir]);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    const info = await inspect(env, 'quiet');
    assert.equal(info['ManifestType'], 'application/vnd.docker.distribution.manifest.v2+json');
    assert.deepEqual(info['Config'].Entrypoint, ['echo']);
    assert.deepEqual(info['Config'].Cmd, ['x']);
  });

  it('runs the base image’s ONBUILD triggers in the child build and does not pass them on', async () => {
    const base = context(env, 'onbuild-base', {
      Containerfile: 'FROM busybox\nONBUILD COPY marker.txt /marker.txt\nONBUILD RUN echo triggered > /triggered\n',
    });
    await env.ok(['build', '-t', 'onbuild-base', base]);
    assert.deepEqual((await inspect(env, 'onbuild-base'))['Config'].OnBuild, ['COPY marker.txt /marker.txt', 'RUN echo triggered > /triggered']);
    const child = context(env, 'onbuild-child', {
      'marker.txt': 'from the child context\n',
      Containerfile: 'FROM onbuild-base\nCMD ["cat", "/marker.txt", "/triggered"]\n',
    });
    const r = await env.ok(['build', '-t', 'onbuild-child', child]);
    assert.match(r.stdout, /^ONBUILD RUN echo triggered/m);
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'onbuild-child'])).stdout, 'from the child context\ntriggered\n');
    assert.ok(!(await inspect(env, 'onbuild-child'))['Config'].OnBuild);
  });

  it('runs RUN here-documents as scripts or shell input and writes COPY here-documents as files', async () => {
    const dir = context(env, 'heredoc', {
      Containerfile: [
        'FROM busybox',
        'ARG WHO=builder',
        'RUN <<EOF',
        'echo one > /script',
        'echo two >> /script',
        'EOF',
        'RUN cat <<A > /a && cat <<-B > /b',
        'hello $WHO',
        'A',
        '\tindented',
        '\tB',
        'COPY <<CONF /etc/app.conf',
        'user=$WHO',
        'CONF',
        '',
      ].join('\n'),
    });
    await env.ok(['build', '-t', 'heredoc', dir]);
    const r = await env.ok(['run', '--rm', '--network', 'none', 'heredoc', 'cat', '/script', '/a', '/b', '/etc/app.conf']);
    assert.equal(r.stdout, 'one\ntwo\nhello builder\nindented\nuser=builder\n');
  });

  it('ADD unpacks a local tar archive', async () => {
    const dir = context(env, 'add', { 'payload/inner/f.txt': 'unpacked\n', Containerfile: 'FROM busybox\nADD payload.tar.gz /opt/\nCMD ["sh"]\n' });
    const { spawnSync } = await import('node:child_process');
    assert.equal(spawnSync('tar', ['-czf', join(dir, 'payload.tar.gz'), '-C', join(dir, 'payload'), 'inner']).status, 0);
    await env.ok(['build', '-t', 'add', dir]);
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'add', 'cat', '/opt/inner/f.txt'])).stdout, 'unpacked\n');
  });

  it('gives the same image twice with --timestamp, and with SOURCE_DATE_EPOCH', async () => {
    const dir = context(env, 'repro', {
      'a.txt': 'a\n',
      Containerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo made > /made && mkdir /d\nENV X=1\nCMD ["cat", "/made"]\n',
    });
    const id = async (args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) => {
      const r = await env.berth(['build', '-q', '--no-cache', ...args, dir], opts);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    const first = await id(['--timestamp', '0', '-t', 'repro']);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await id(['--timestamp', '0']), first);
    const info = await inspect(env, 'repro');
    assert.equal(new Date(info['Created']).getTime(), 0);
    assert.ok((info['History'] as { created?: string }[]).slice(1).every((h) => h.created !== undefined && new Date(h.created).getTime() === 0));
    const mtimes = await env.ok(['run', '--rm', '--network', 'none', 'repro', 'stat', '-c', '%Y', '/a.txt', '/made', '/d']);
    assert.equal(mtimes.stdout, '0\n0\n0\n');

    const epoch = '1700000000';
    const viaEnv = await id(['-t', 'repro-epoch'], { env: { SOURCE_DATE_EPOCH: epoch } });
    assert.equal(new Date((await inspect(env, 'repro-epoch'))['Created']).getTime(), Number(epoch) * 1000);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await id(['--build-arg', `SOURCE_DATE_EPOCH=${epoch}`]), viaEnv);
    assert.notEqual(viaEnv, first);
    const withoutTime = await id([]);
    await new Promise((r) => setTimeout(r, 1100));
    assert.notEqual(await id([]), withoutTime, 'without a timestamp the created time differs');
  });
});
