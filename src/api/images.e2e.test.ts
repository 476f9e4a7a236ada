// The Docker API's images through the docker CLI (28) against `berth system service`: list,
// inspect, history, tag, rmi (409 when a container uses the image), pull and push with a local
// registry (127.0.0.1 is insecure by default, as with dockerd), save | load, the classic builder,
// prune, system df and login; raw requests where the CLI does not show the shape.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import tar from 'tar-stream';
import { berthService, type BerthService } from '../testing/berth-service.js';
import { buildContext } from '../testing/containers.js';
import { startRegistry, type Registry } from '../testing/registry.js';
import { run } from '../testing/cli.js';

/** A tar of `entries` (files, and symlinks as { link }) in memory. */
async function tarOf(entries: [string, string | { link: string }][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, v] of entries) {
    if (typeof v === 'string') pack.entry({ name, mode: 0o644 }, v);
    else pack.entry({ name, type: 'symlink', linkname: v.link });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The JSON lines of a streamed answer. */
const lines = (body: Buffer) =>
  body
    .toString()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('the Docker API: images', { timeout: 10 * 60_000 }, () => {
  let svc: BerthService;
  let registry: Registry;
  let secured: Registry;
  before(async () => {
    svc = await berthService();
    registry = await startRegistry(join(svc.dir, 'registry'));
    const htpasswd = join(svc.dir, 'htpasswd');
    writeFileSync(htpasswd, `alice:${bcrypt.hashSync('s3cret', 10)}\n`);
    secured = await startRegistry(join(svc.dir, 'secured'), { htpasswd });
  });
  after(async () => {
    await registry?.stop();
    await secured?.stop();
    await svc?.stop();
    svc?.cleanup();
  });

  const docker = async (args: string[], env: Record<string, string> = {}) => {
    const r = await svc.docker(args, { env: { ...process.env, DOCKER_HOST: svc.dockerHost, DOCKER_CONFIG: join(svc.dir, 'docker-config'), ...env } });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${svc.log()}`);
    return r.stdout;
  };

  test('images, inspect and history in Docker’s shapes', async () => {
    const list = (await svc.api('GET', '/v1.41/images/json')).json() as Record<string, any>[];
    const bb = list.find((i) => (i.RepoTags as string[]).includes('localhost/busybox:latest') || (i.RepoTags as string[]).includes('busybox:latest'));
    assert.ok(bb, JSON.stringify(list));
    assert.match(bb.Id, /^sha256:[a-f0-9]{64}$/);
    assert.equal(bb.SharedSize, -1);
    assert.equal(bb.Containers, -1);
    assert.equal(typeof bb.Created, 'number');
    assert.equal(bb.VirtualSize, bb.Size, 'API 1.41 still has VirtualSize');
    assert.equal((await svc.api('GET', '/v1.44/images/json')).json()[0].VirtualSize, undefined);

    const table = await docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.match(table, new RegExp(`busybox:latest ${bb.Id.slice(7, 19)}`));

    const inspect = JSON.parse(await docker(['image', 'inspect', 'busybox']))[0];
    assert.equal(inspect.Id, bb.Id);
    assert.deepEqual(inspect.Config.Cmd, ['sh']);
    assert.equal(inspect.RootFS.Type, 'layers');
    assert.equal(inspect.RootFS.Layers.length, 1);
    assert.equal(inspect.Os, 'linux');
    assert.ok(!Number.isNaN(Date.parse(inspect.Created)));
    assert.equal(await docker(['inspect', '--format', '{{.Id}}', 'busybox']), `${bb.Id}\n`);

    const history = (await svc.api('GET', '/images/busybox/history')).json() as Record<string, any>[];
    assert.equal(history[0]!.Id, bb.Id);
    assert.ok(history[0]!.Size > 0);
    assert.match(await docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'busybox']), /ADD file:/);

    const missing = await svc.api('GET', '/images/no-such-image/json');
    assert.equal(missing.status, 404);
    assert.match(missing.json().message, /No such image: no-such-image/);
    const r = await svc.docker(['image', 'inspect', 'no-such-image']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such image/);
  });

  test('tag, filters and rmi: untag, 409 while a container uses the image, delete', async () => {
    await docker(['tag', 'busybox', 'api-img/tagged:v1']);
    await docker(['tag', 'busybox', 'api-img/other']);
    const ids = await docker(['images', '--filter', 'reference=api-img/*', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(ids.trim().split('\n').sort(), ['api-img/other:latest', 'api-img/tagged:v1']);
    // Untagging one of several names keeps the image.
    assert.match(await docker(['rmi', 'api-img/tagged:v1']), /Untagged: api-img\/tagged:v1/);
    assert.equal((await svc.api('GET', '/images/api-img/tagged:v1/json')).status, 404);

    // An image of its own (imported), used by a container: 409 without force.
    const tarball = join(svc.dir, 'busybox.tar');
    await svc.ok(['import', '--change', 'CMD ["sh"]', tarball, 'api-img/used']);
    await svc.ok(['create', '--name', 'api-img-user', 'api-img/used', 'true']);
    const refused = await svc.docker(['rmi', 'api-img/used']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /conflict: unable to delete [a-f0-9]{12} \(must be forced\) - image is being used by container/);
    const raw = await svc.api('DELETE', '/images/api-img/used');
    assert.equal(raw.status, 409);
    // One name of several goes without force; forced, the last name goes and the container keeps the image, as dockerd.
    await docker(['tag', 'api-img/used', 'api-img/used:two']);
    assert.match(await docker(['rmi', 'api-img/used:two']), /Untagged: api-img\/used:two/);
    const id = (await docker(['inspect', '--format', '{{.Id}}', 'api-img/used'])).trim();
    const forced = await docker(['rmi', '-f', 'api-img/used']);
    assert.equal(forced, 'Untagged: api-img/used:latest\n');
    assert.equal((await svc.api('GET', `/images/${id}/json`)).status, 200);
    await svc.ok(['rm', 'api-img-user']);
    const removed = await docker(['rmi', id]);
    assert.equal(removed, `Deleted: ${id}\n`);
    assert.equal((await svc.api('DELETE', `/images/${id}`)).status, 404);
    await docker(['rmi', 'api-img/other']);
  });

  test('pull and push against a local registry, with Docker’s progress stream', async () => {
    await docker(['tag', 'busybox', `${registry.host}/api/bb:1`]);
    const pushed = await docker(['push', `${registry.host}/api/bb:1`]);
    assert.match(pushed, new RegExp(`The push refers to repository \\[${registry.host.replace(/\./g, '\\.')}/api/bb\\]`));
    assert.match(pushed, /1: digest: sha256:[a-f0-9]{64}/);
    await docker(['rmi', `${registry.host}/api/bb:1`]);

    // A raw pull shows the messages a client parses: per layer, then the digest and status.
    const res = await svc.api('POST', `/images/create?fromImage=${registry.host}/api/bb&tag=1`, undefined, { 'X-Registry-Auth': 'e30=' });
    assert.equal(res.status, 200, res.body.toString());
    const messages = lines(res.body);
    assert.deepEqual(messages[0], { status: 'Pulling from api/bb', id: '1' });
    const statuses = messages.map((m) => m.status as string);
    assert.ok(statuses.includes('Already exists') || statuses.includes('Pull complete'), statuses.join('|'));
    assert.match(statuses.at(-2)!, /^Digest: sha256:[a-f0-9]{64}$/);
    assert.equal(statuses.at(-1), `Status: Downloaded newer image for ${registry.host}/api/bb:1`);

    // push --all-tags: every local tag of the repository; search finds it in the registry's catalog.
    await docker(['tag', 'busybox', `${registry.host}/api/multi:a`]);
    await docker(['tag', 'busybox', `${registry.host}/api/multi:b`]);
    const all = await docker(['push', '--all-tags', `${registry.host}/api/multi`]);
    assert.match(all, /a: digest: sha256:/);
    assert.match(all, /b: digest: sha256:/);
    assert.match(await docker(['search', `${registry.host}/api/mul`]), new RegExp(`${registry.host.replace(/\./g, '\\.')}/api/multi`));
    await docker(['rmi', `${registry.host}/api/multi:a`, `${registry.host}/api/multi:b`]);

    // A tag in fromImage and another apart: the one apart wins (dockerode sends both).
    const both = await svc.api('POST', `/images/create?fromImage=${registry.host}/api/bb:nope&tag=1`);
    assert.equal(both.status, 200, both.body.toString());
    assert.match(lines(both.body).at(-1)!.status, /Image is up to date/);

    // The CLI's pull of the same tag: up to date.
    assert.match(await docker(['pull', `${registry.host}/api/bb:1`]), /Image is up to date/);
    // A missing tag is Docker's 404 before any stream.
    const missing = await svc.api('POST', `/images/create?fromImage=${registry.host}/api/bb&tag=nope`);
    assert.equal(missing.status, 404, missing.body.toString());
    const cli = await svc.docker(['pull', `${registry.host}/api/nothing:1`]);
    assert.notEqual(cli.code, 0);
    await docker(['rmi', `${registry.host}/api/bb:1`]);
  });

  test('login against an htpasswd registry, then push and pull with the credentials', async () => {
    const wrong = await svc.docker(['login', '-u', 'alice', '--password-stdin', secured.host], { input: 'wrong\n' });
    assert.notEqual(wrong.code, 0);
    const ok = await svc.docker(['login', '-u', 'alice', '--password-stdin', secured.host], { input: 's3cret\n' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    await docker(['tag', 'busybox', `${secured.host}/team/bb:1`]);
    assert.match(await docker(['push', `${secured.host}/team/bb:1`]), /1: digest: sha256:/);
    await docker(['rmi', `${secured.host}/team/bb:1`]);
    await docker(['pull', `${secured.host}/team/bb:1`]);
    await docker(['rmi', `${secured.host}/team/bb:1`]);
    // A build's FROM pull takes the credentials the CLI sends in X-Registry-Config.
    const fromPrivate = buildContext(svc, 'ctx-private', { Dockerfile: `FROM ${secured.host}/team/bb:1\nRUN true\n` });
    await docker(['build', '-q', '-t', 'api-img/private', fromPrivate], { DOCKER_BUILDKIT: '0' });
    await docker(['rmi', 'api-img/private', `${secured.host}/team/bb:1`]);
    // Without credentials the registry refuses the pull.
    const anonymous = await svc.api('POST', `/images/create?fromImage=${secured.host}/team/bb&tag=1`);
    assert.notEqual(anonymous.status, 200);
    const auth = await svc.api('POST', '/auth', { username: 'alice', password: 'nope', serveraddress: `http://${secured.host}` });
    assert.equal(auth.status, 401);
    const good = await svc.api('POST', '/auth', { username: 'alice', password: 's3cret', serveraddress: secured.host });
    assert.deepEqual(good.json(), { Status: 'Login Succeeded', IdentityToken: '' });
  });

  test('docker import: a root file system tarball from the request body', async () => {
    const out = await docker(['import', '--change', 'CMD ["sh"]', '-m', 'from the API', join(svc.dir, 'busybox.tar'), 'api-img/imported:1']);
    assert.match(out.trim(), /^sha256:[a-f0-9]{64}$/);
    const inspect = JSON.parse(await docker(['image', 'inspect', 'api-img/imported:1']))[0];
    assert.equal(inspect.Id, out.trim());
    assert.deepEqual(inspect.Config.Cmd, ['sh']);
    assert.equal(inspect.Comment, 'from the API');
    await docker(['rmi', 'api-img/imported:1']);
  });

  test('docker save | docker load round trip', async () => {
    const archive = join(svc.dir, 'saved.tar');
    await docker(['tag', 'busybox', 'api-img/saved:1']);
    const id = (await docker(['inspect', '--format', '{{.Id}}', 'api-img/saved:1'])).trim();
    await docker(['save', '-o', archive, 'api-img/saved:1']);
    await docker(['rmi', 'api-img/saved:1']);
    const loaded = await docker(['load', '-i', archive]);
    assert.match(loaded, /Loaded image: api-img\/saved:1/);
    assert.equal((await docker(['inspect', '--format', '{{.Id}}', 'api-img/saved:1'])).trim(), id);
    // Piped: docker save writes the stream the API sends.
    const piped = await new Promise<number>((resolve, reject) => {
      const env = { ...process.env, DOCKER_HOST: svc.dockerHost, DOCKER_CONFIG: join(svc.dir, 'docker-config') };
      const save = spawn('docker', ['save', 'api-img/saved:1'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      const load = spawn('docker', ['load', '-q'], { env, stdio: ['pipe', 'ignore', 'inherit'] });
      save.stdout.pipe(load.stdin);
      load.on('error', reject);
      load.on('exit', (code) => resolve(code ?? 1));
    });
    assert.equal(piped, 0);
    await docker(['rmi', 'api-img/saved:1']);
  });

  test('DOCKER_BUILDKIT=0 docker build: COPY, RUN, --build-arg; the classic builder’s lines; a failed step', async () => {
    const dir = buildContext(svc, 'ctx', {
      Dockerfile: 'FROM busybox\nARG GREETING=hi\nCOPY hello.txt /hello.txt\nRUN echo "$GREETING from run" > /run.txt && cat /hello.txt\nLABEL api.test=yes\n',
      'hello.txt': 'hello from the context\n',
    });
    const out = await docker(['build', '-t', 'api-img/built', '--build-arg', 'GREETING=howdy', dir], { DOCKER_BUILDKIT: '0' });
    assert.match(out, /Step 1\/5 : FROM busybox/);
    assert.match(out, /Step 4\/5 : RUN echo/);
    assert.match(out, /hello from the context/);
    assert.match(out, /Successfully built [a-f0-9]{12}/);
    assert.match(out, /Successfully tagged api-img\/built:latest/);
    const run = await svc.ok(['run', '--rm', 'api-img/built', 'cat', '/run.txt', '/hello.txt']);
    assert.equal(run.stdout, 'howdy from run\nhello from the context\n');
    const labels = await docker(['inspect', '--format', '{{index .Config.Labels "api.test"}}', 'api-img/built']);
    assert.equal(labels.trim(), 'yes');
    // The classic builder's parent chain: the built image's Parent is its last step's; busybox has none.
    assert.match(await docker(['inspect', '--format', '{{.Parent}}', 'api-img/built']), /^sha256:[a-f0-9]{64}\n$/);
    assert.equal(await docker(['inspect', '--format', '{{.Parent}}', 'busybox']), '\n');
    // Again: every step from the cache; -q prints only the ID.
    const quiet = await docker(['build', '-q', '-t', 'api-img/built', dir], { DOCKER_BUILDKIT: '0' });
    assert.match(quiet.trim(), /^sha256:[a-f0-9]{64}$/);

    const failing = buildContext(svc, 'ctx-fail', { Dockerfile: 'FROM busybox\nRUN exit 3\n' });
    const failed = await svc.docker(['build', failing], { env: { ...process.env, DOCKER_HOST: svc.dockerHost, DOCKER_BUILDKIT: '0' } });
    // dockerd's errorDetail carries the RUN's status, which the CLI exits with.
    assert.equal(failed.code, 3, failed.stderr);
    assert.match(failed.stderr, /RUN exit 3.*exit status 3/);
    // Quiet, a failure still streams: the steps held back, then the error and its status.
    const quietFail = await svc.docker(['build', '-q', failing], { env: { ...process.env, DOCKER_HOST: svc.dockerHost, DOCKER_BUILDKIT: '0' } });
    assert.equal(quietFail.code, 3, quietFail.stderr);
    // extrahosts reach RUN's /etc/hosts (docker build --add-host).
    const hosts = buildContext(svc, 'ctx-hosts', { Dockerfile: 'FROM busybox\nRUN grep api-extra /etc/hosts > /found\n' });
    await docker(['build', '-q', '--add-host', 'api-extra:10.9.8.7', '-t', 'api-img/hosts', hosts], { DOCKER_BUILDKIT: '0' });
    assert.match((await svc.ok(['run', '--rm', 'api-img/hosts', 'cat', '/found'])).stdout, /^10\.9\.8\.7\s+api-extra/);
    await docker(['rmi', 'api-img/hosts']);
    // A BuildKit session is refused with a clear line.
    const bk = await svc.api('POST', '/build?version=2', Buffer.alloc(1024));
    assert.equal(bk.status, 400);
    assert.match(bk.json().message, /DOCKER_BUILDKIT=0/);
    // A RUN resource limit berth cannot apply is refused, not ignored; the CLI's zeros pass.
    const limited = await svc.docker(['build', '-q', '--memory', '64m', hosts], { env: { ...process.env, DOCKER_HOST: svc.dockerHost, DOCKER_BUILDKIT: '0' } });
    assert.notEqual(limited.code, 0);
    assert.match(limited.stderr, /memory=67108864: berth's build runs its steps without resource limits/);
    await docker(['rmi', 'api-img/built']);
  });

  test('docker-compose 1.29 build: build args, the image named, its HEALTHCHECK kept', { skip: !existsSync('/usr/bin/docker-compose') }, async () => {
    const dir = buildContext(svc, 'compose-proj', {
      'web/Dockerfile': 'FROM busybox\nARG MSG=unset\nRUN echo "$MSG" > /msg\nHEALTHCHECK --interval=5s CMD true\n',
      'docker-compose.yml':
        'version: "3.8"\nservices:\n  web:\n    build:\n      context: ./web\n      args:\n        MSG: from-compose\n    image: api-img/compose-web:1\n',
    });
    const env = { ...process.env, DOCKER_HOST: svc.dockerHost, COMPOSE_DOCKER_CLI_BUILD: '0', DOCKER_BUILDKIT: '0' };
    const r = await run('docker-compose', ['-p', 'apiimg', 'build'], { cwd: dir, env });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Successfully tagged api-img\/compose-web:1/);
    assert.equal((await svc.ok(['run', '--rm', 'api-img/compose-web:1', 'cat', '/msg'])).stdout, 'from-compose\n');
    const health = await docker(['image', 'inspect', '--format', '{{json .Config.Healthcheck.Test}}', 'api-img/compose-web:1']);
    assert.equal(health.trim(), '["CMD-SHELL","true"]');
    await docker(['rmi', 'api-img/compose-web:1']);
  });

  test('a build context is unpacked inside its directory, the Dockerfile must be in it, and nothing is left after', async () => {
    const outside = join(svc.dir, 'outside');
    mkdirSync(outside);
    const context = await tarOf([
      ['Dockerfile', 'FROM busybox\nCOPY . /ctx\n'],
      ['link', { link: outside }],
      ['link/escaped.txt', 'should stay inside\n'],
    ]);
    // An entry under a symlink the archive made is refused (never written through it): the client's error.
    const res = await svc.api('POST', '/build?t=api-img/ctx-safe&dockerfile=Dockerfile', context);
    assert.equal(res.status, 400, res.body.toString());
    assert.match(res.json().message, /unpacking the build context: .*link/);
    assert.deepEqual(readdirSync(outside), [], 'nothing written through the archive’s symlink');
    const withLink = await tarOf([
      ['Dockerfile', 'FROM busybox\nCOPY . /ctx\n'],
      ['link', { link: outside }],
      ['file.txt', 'in the context\n'],
    ]);
    const built = await svc.api('POST', '/build?t=api-img/ctx-safe&dockerfile=Dockerfile', withLink);
    assert.equal(built.status, 200, built.body.toString());
    const messages = lines(built.body);
    assert.ok(!messages.some((m) => m.error) && messages.some((m) => m.aux?.ID), JSON.stringify(messages));
    // A path that climbs out is taken inside the context (as a chroot would): no /etc/passwd there.
    const outOfContext = await svc.api('POST', '/build?dockerfile=../../../etc/passwd', withLink);
    assert.equal(outOfContext.status, 400);
    assert.match(outOfContext.json().message, /cannot locate specified Dockerfile/);
    // …and through a link the archive made that leads out of it.
    writeFileSync(join(outside, 'Dockerfile'), 'FROM busybox\n');
    const throughLink = await svc.api('POST', '/build?dockerfile=link/Dockerfile', withLink);
    assert.equal(throughLink.status, 400);
    assert.match(throughLink.json().message, /leads out of the build context/);
    const tmp = join(svc.root, 'tmp');
    const left = existsSync(tmp) ? readdirSync(tmp).flatMap((d) => readdirSync(join(tmp, d))) : [];
    assert.deepEqual(
      left.filter((n) => n.startsWith('build-context')),
      [],
    );
    await docker(['rmi', 'api-img/ctx-safe']);
  });

  test('docker image prune -f and docker system df', async () => {
    const dir = buildContext(svc, 'ctx-dangling', { Dockerfile: 'FROM busybox\nRUN echo one > /one\n' });
    const id = (await docker(['build', '-q', dir], { DOCKER_BUILDKIT: '0' })).trim();
    assert.equal((await svc.api('GET', `/images/${id}/json`)).status, 200);
    const df = await docker(['system', 'df', '--format', '{{.Type}} {{.TotalCount}}']);
    assert.match(df, /^Images \d+$/m);
    assert.match(df, /^Containers \d+$/m);
    assert.match(df, /^Local Volumes \d+$/m);
    await svc.ok(['create', '--name', 'api-img-df', 'busybox', 'true']);
    const verbose = await docker(['system', 'df', '-v']);
    assert.match(verbose, /api-img-df/);
    await svc.ok(['rm', 'api-img-df']);
    const raw = (await svc.api('GET', '/system/df')).json();
    assert.equal(typeof raw.LayersSize, 'number');
    assert.ok(Array.isArray(raw.Images) && raw.Images.every((i: Record<string, unknown>) => typeof i.Containers === 'number' && i.Containers >= 0));
    const pruned = await docker(['image', 'prune', '-f']);
    assert.match(pruned, /Total reclaimed space/);
    assert.equal((await svc.api('GET', `/images/${id}/json`)).status, 404);
    assert.equal((await svc.api('GET', '/images/busybox/json')).status, 200);

    // docker builder prune: what a failed build left in the cache goes; a tagged build and what it was built on stay.
    const cached = buildContext(svc, 'ctx-cache', { Dockerfile: 'FROM busybox\nRUN echo a > /a\n' });
    await docker(['build', '-q', '-t', 'api-img/cached', cached], { DOCKER_BUILDKIT: '0' });
    const failing = buildContext(svc, 'ctx-cache-fail', { Dockerfile: 'FROM busybox\nRUN echo b > /b\nRUN exit 1\n' });
    assert.notEqual((await svc.docker(['build', failing], { env: { ...process.env, DOCKER_HOST: svc.dockerHost, DOCKER_BUILDKIT: '0' } })).code, 0);
    const before = (await svc.api('GET', '/images/json?all=1')).json().length;
    assert.match(await docker(['builder', 'prune', '-f']), /Total/);
    assert.equal((await svc.api('GET', '/images/json?all=1')).json().length, before - 1);
    assert.equal((await svc.api('GET', '/images/api-img/cached/json')).status, 200);
    await docker(['rmi', 'api-img/cached']);
  });
});
