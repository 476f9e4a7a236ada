import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { SYNC_TIMEOUT_MS } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

/**
 * Behaviours checked against podman 4.3 one by one: what it prints, where, and with which exit code.
 * Each case names the podman output it mirrors.
 */

const NONE = ['--network', 'none'];

async function inspectField(env: ContainerEnv, name: string, format: string): Promise<string> {
  return (await env.ok(['container', 'inspect', '--format', format, name])).stdout.trim();
}

/** A file of a tar archive, read with tar(1). */
function fileInTar(tarball: string, member: string): string {
  const r = spawnSync('tar', ['-xOf', tarball, member], { encoding: 'utf8', timeout: SYNC_TIMEOUT_MS });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('podman behaviours: run, stop, kill, rm, save, load', { timeout: 600_000 }, () => {
  let env: ContainerEnv;
  before(async () => {
    env = await containerEnv();
    // The test rootfs is made in a 0700 temp dir: an image whose root others may enter, for --user.
    await env.ok(['run', '--name', 'opener', ...NONE, 'busybox', 'chmod', '755', '/']);
    await env.ok(['commit', '-q', 'opener', 'open']);
    await env.ok(['commit', '-q', '-c', 'WORKDIR /wd/sub', 'opener', 'wdimg']);
    await env.ok(['rm', 'opener']);
  });
  after(() => env?.cleanup());

  it("--workdir that does not exist: 126 and podman's message; the image's WORKDIR is made, owned by the user", async () => {
    const missing = await env.berth(['run', '--rm', ...NONE, '--workdir', '/missing', 'busybox', 'pwd']);
    assert.equal(missing.code, 126, missing.stderr);
    assert.match(missing.stderr, /^Error: workdir "\/missing" does not exist on container [0-9a-f]{64}\n$/);
    // start words it as podman's start does, and exits 125 (only run passes on 126 and 127).
    const id = (await env.ok(['create', ...NONE, '--workdir', '/missing', 'busybox', 'pwd'])).stdout.trim();
    const start = await env.berth(['start', id]);
    assert.equal(start.code, 125, start.stderr);
    assert.equal(start.stderr, `Error: unable to start container "${id}": workdir "/missing" does not exist on container ${id}\n`);
    const attached = await env.berth(['start', '-a', id]);
    assert.equal(attached.code, 125, attached.stderr);
    assert.equal(attached.stderr, `Error: unable to start container ${id}: workdir "/missing" does not exist on container ${id}\n`);
    await env.ok(['rm', id]);
    // The same directory named by the user is not made, even when it is the image's own WORKDIR.
    const same = await env.berth(['run', '--rm', ...NONE, '--workdir', '/wd/sub', 'wdimg', 'pwd']);
    assert.equal(same.code, 126, same.stderr);
    const file = await env.berth(['run', '--rm', ...NONE, '--workdir', '/etc/passwd', 'busybox', 'pwd']);
    assert.equal(file.code, 126, file.stderr);
    assert.match(file.stderr, /^Error: workdir "\/etc\/passwd" exists on container [0-9a-f]{64}, but is not a directory\n$/);
    // Under or above a mount it is the runtime's to make.
    const onMount = await env.ok(['run', '--rm', ...NONE, '--workdir', '/scratch/in', '--tmpfs', '/scratch', 'busybox', 'pwd']);
    assert.equal(onMount.stdout, '/scratch/in\n');
    const image = await env.ok(['run', '--rm', ...NONE, '--user', '100:200', 'wdimg', 'sh', '-c', 'pwd; stat -c %u:%g /wd /wd/sub; echo $HOME']);
    assert.equal(image.stdout, '/wd/sub\n0:0\n100:200\n/wd/sub\n');
  });

  it('a directory as the command: 126, OCI permission denied; a missing one 127', async () => {
    const dir = await env.berth(['run', '--rm', ...NONE, 'busybox', '/etc']);
    assert.equal(dir.code, 126, dir.stderr);
    assert.match(dir.stderr, /^Error: .*open executable: Operation not permitted: OCI permission denied\n$/);
    const missing = await env.berth(['run', '--rm', ...NONE, 'busybox', 'nonexist']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(
      missing.stderr,
      /executable file `nonexist` not found in \$PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found\n$/,
    );
  });

  it('ImageName is the stored full name, whatever name or ID was typed (podman 4.3)', async () => {
    const id = (await env.ok(['images', '-q', '--no-trunc', 'busybox'])).stdout.trim().replace(/^sha256:/, '');
    for (const typed of ['busybox', 'localhost/busybox:latest', id.slice(0, 12)]) {
      await env.ok(['create', '--name', 'typed', typed, 'true']);
      assert.equal(await inspectField(env, 'typed', '{{.ImageName}}'), 'localhost/busybox:latest', typed);
      await env.ok(['rm', 'typed']);
    }
  });

  it("--user: podman's passwd and group lines and HOME for IDs the image does not know", async () => {
    const show = async (...args: string[]) =>
      (await env.ok(['run', '--rm', ...NONE, ...args, 'sh', '-c', 'echo $HOME; id -un; id -g; tail -n1 /etc/passwd; tail -n1 /etc/group'])).stdout;
    assert.equal(await show('--user', '100', 'open'), '/\n100\n0\n100:*:100:0:container user:/:/bin/sh\n100:x:100:100\n');
    assert.equal(await show('--user', '100:100', 'open'), '/\n100\n100\n100:*:100:100:container user:/:/bin/sh\n100:x:100:100\n');
    assert.equal(await show('--user', '100', '--workdir', '/tmp', 'open'), '/tmp\n100\n0\n100:*:100:0:container user:/tmp:/bin/sh\n100:x:100:100\n');
    // A read-only root gets the lines through bind-mounted copies.
    assert.equal(await show('--user', '100', '--read-only', 'open'), '/\n100\n0\n100:*:100:0:container user:/:/bin/sh\n100:x:100:100\n');
    // A user the image knows keeps its entry's home; the files are left as they are.
    assert.equal(
      await show('--user', 'nobody', 'open'),
      '/nonexistent\nnobody\n65534\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nnogroup:x:65534:\n',
    );
    assert.equal(
      await show('--user', 'nobody:300', 'open'),
      '/nonexistent\nnobody\n300\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n300:x:300:nobody\n',
    );
    assert.equal(await show('open'), '/root\nroot\n0\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nnogroup:x:65534:\n');
    assert.equal((await env.ok(['run', '--rm', ...NONE, '--user', '100', '-e', 'HOME=/x', 'open', 'sh', '-c', 'echo $HOME'])).stdout, '/x\n');
  });

  it("stop warns on stderr when it resorts to SIGKILL, as podman's logger does; -t 0 kills without a word", async () => {
    const stubborn = ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.2; done'];
    await env.ok(['run', '-d', '--name', 'stubborn', ...NONE, 'busybox', ...stubborn]);
    await waitForLog(env, 'stubborn', 'ready');
    const stop = await env.ok(['stop', '-t', '1', 'stubborn']);
    assert.equal(stop.stdout, 'stubborn\n');
    assert.match(
      stop.stderr,
      /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=warning msg="StopSignal SIGTERM failed to stop container stubborn in 1 seconds, resorting to SIGKILL"\n$/,
    );
    await env.ok(['start', 'stubborn']);
    await waitForLog(env, 'stubborn', 'ready\nready');
    const now = await env.ok(['stop', '-t', '0', 'stubborn']);
    assert.equal(now.stderr, '');
    // Through the logger: --log-level error hides the warning.
    await env.ok(['start', 'stubborn']);
    await waitForLog(env, 'stubborn', 'ready\nready\nready');
    const quiet = await env.ok(['--log-level', 'error', 'stop', '-t', '1', 'stubborn']);
    assert.equal(quiet.stderr, '');
    await env.ok(['rm', 'stubborn']);
  });

  it('kill reaches a container being stopped; a stopped one is refused (125)', async () => {
    await env.ok(['run', '-d', '--name', 'slow', ...NONE, 'busybox', 'sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.2; done']);
    await waitForLog(env, 'slow', 'ready');
    const stopping = env.berth(['stop', '-t', '60', 'slow']);
    for (let i = 0; (await inspectField(env, 'slow', '{{.State.Status}}')) !== 'stopping'; i++) {
      assert.ok(i < 200, 'the container never showed as stopping');
      await sleep(50);
    }
    const kill = await env.ok(['kill', 'slow']);
    assert.equal(kill.stdout, 'slow\n');
    const stop = await stopping;
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, 'slow\n');
    assert.equal(stop.stderr, '', 'the kill, not the timeout, ended it');
    assert.equal(await inspectField(env, 'slow', '{{.State.Status}}'), 'exited');
    const again = await env.berth(['kill', 'slow']);
    assert.equal(again.code, 125);
    assert.match(again.stderr, /^Error: can only kill running containers\. [0-9a-f]{64} is in state exited: container state improper\n$/);
    await env.ok(['rm', 'slow']);
  });

  it('--memory=0 is no limit', async () => {
    const id = (await env.ok(['create', '--name', 'unlimited', ...NONE, '--memory=0', 'busybox', 'true'])).stdout.trim();
    assert.equal(await inspectField(env, 'unlimited', '{{.HostConfig.Memory}}'), '0');
    await env.ok(['start', 'unlimited']);
    await env.ok(['wait', 'unlimited']);
    const spec = JSON.parse(readFileSync(join(env.root, 'containers', id, 'userdata', 'config.json'), 'utf8')) as {
      linux: { resources: Record<string, unknown> };
    };
    assert.equal(spec.linux.resources.memory, undefined);
    await env.ok(['rm', 'unlimited']);
  });

  it('save by ID writes no RepoTags, and the archive loads back as <none>:<none>', async () => {
    // An image of its own, so that removing its name removes it.
    await env.ok(['run', '--name', 'base', ...NONE, 'busybox', 'true']);
    await env.ok(['commit', '-q', '-c', 'LABEL only=this', 'base', 'saved/byid']);
    await env.ok(['rm', 'base']);
    const id = (await env.ok(['images', '-q', '--no-trunc', 'saved/byid'])).stdout.trim().replace(/^sha256:/, '');
    const tarball = join(env.dir, 'byid.tar');
    await env.ok(['save', '-o', tarball, id.slice(0, 12)]);
    assert.deepEqual(
      (JSON.parse(fileInTar(tarball, 'manifest.json')) as { RepoTags: string[] }[]).map((m) => m.RepoTags),
      [[]],
    );
    await env.ok(['rmi', 'saved/byid']);
    const load = await env.ok(['load', '-i', tarball]);
    assert.equal(load.stdout, `Loaded image: sha256:${id}\n`);
    const images = await env.ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.match(images.stdout, new RegExp(`^<none>:<none> ${id.slice(0, 12)}$`, 'm'));
    await env.ok(['rmi', id]);
  });

  it('run docker-archive:FILE and oci-archive:FILE store the image (with its names) and run it', async () => {
    await env.ok(['tag', 'busybox', 'archived/one']);
    const docker = join(env.dir, 'one.tar');
    const oci = join(env.dir, 'one-oci.tar');
    await env.ok(['save', '-o', docker, 'archived/one']);
    await env.ok(['save', '--format', 'oci-archive', '-o', oci, 'archived/one']);
    await env.ok(['rmi', 'archived/one']);
    for (const ref of [`docker-archive:${docker}`, `oci-archive:${oci}`]) {
      const r = await env.ok(['run', '--rm', ...NONE, ref, 'echo', 'hi']);
      assert.equal(r.stdout, 'hi\n', ref);
      // podman's lines for the copy into the store, on stderr.
      assert.match(
        r.stderr,
        /^Getting image source signatures\n(Copying blob [0-9a-f]{12}.*\n)+Copying config [0-9a-f]{12}\nWriting manifest to image destination\n/,
        ref,
      );
      assert.equal((await env.ok(['images', '-q', 'archived/one'])).stdout.length > 0, true, ref);
      await env.ok(['rmi', 'archived/one']);
    }
    // An archive without names (saved by ID): the image stays unnamed and its container shows its ID.
    await env.ok(['run', '--name', 'base', ...NONE, 'busybox', 'true']);
    await env.ok(['commit', '-q', '-c', 'LABEL only=archive', 'base', 'archived/two']);
    await env.ok(['rm', 'base']);
    const id = (await env.ok(['images', '-q', '--no-trunc', 'archived/two'])).stdout.trim().replace(/^sha256:/, '');
    const unnamed = join(env.dir, 'unnamed.tar');
    await env.ok(['save', '-o', unnamed, id]);
    await env.ok(['rmi', 'archived/two']);
    await env.ok(['create', '--name', 'fromarchive', ...NONE, `docker-archive:${unnamed}`, 'true']);
    assert.equal(await inspectField(env, 'fromarchive', '{{.ImageName}}'), id);
    await env.ok(['rm', 'fromarchive']);
    await env.ok(['rmi', id]);
  });

  it('rm: a running container without -f exits 2, a missing one 1 with nothing removed', async () => {
    await env.ok(['run', '-d', '--name', 'busy', ...NONE, 'busybox', 'sleep', '300']);
    await env.ok(['create', '--name', 'idle', ...NONE, 'busybox', 'true']);
    const running = await env.berth(['rm', 'busy']);
    assert.equal(running.code, 2);
    assert.match(
      running.stderr,
      /^Error: cannot remove container [0-9a-f]{64} as it is running - running or paused containers cannot be removed without force: container state improper\n$/,
    );
    const missing = await env.berth(['rm', 'nosuch', 'idle']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: no container with name or ID "nosuch" found: no such container\n');
    assert.equal(missing.stdout, '');
    assert.equal((await env.berth(['container', 'exists', 'idle'])).code, 0, 'nothing was removed');
    // --external (buildah's containers, for podman) lists what ps -a lists: berth's builds leave none.
    assert.equal((await env.ok(['ps', '-a', '--external', '--format', '{{.Names}}'])).stdout, (await env.ok(['ps', '-a', '--format', '{{.Names}}'])).stdout);
    assert.equal((await env.berth(['rm', '-f', 'nosuch'])).code, 0);
    await env.ok(['rm', '-f', '-t', '0', 'busy', 'idle']);
  });
  it('commits a container that never started (its changes are none), and it still starts after', async () => {
    await env.ok(['create', '--name', 'never-started', '--network', 'none', 'busybox', 'true']);
    const id = (await env.ok(['commit', '-q', 'never-started', 'from-created'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'from-created', 'echo', 'ok'])).stdout, 'ok\n');
    assert.equal((await env.ok(['start', 'never-started'])).stdout, 'never-started\n');
    await env.ok(['rm', '-f', '-t', '0', 'never-started']);
  });
  it('takes the same -v twice, stop --timeout and save --uncompressed, as podman does', async () => {
    const dir = join(env.dir, 'twice');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'f'), 'twice\n');
    assert.equal((await env.ok(['run', '--rm', ...NONE, '-v', `${dir}:/vol1`, '-v', `${dir}:/vol1`, 'busybox', 'cat', '/vol1/f'])).stdout, 'twice\n');
    await env.ok(['run', '-d', '--name', 'timeout-stop', ...NONE, 'busybox', 'sleep', '300']);
    assert.equal((await env.ok(['stop', '--timeout', '0', 'timeout-stop'])).stdout, 'timeout-stop\n');
    await env.ok(['rm', 'timeout-stop']);
    const archive = join(env.dir, 'uncompressed.tar');
    await env.ok(['save', '--format', 'oci-archive', '--uncompressed', '-o', archive, 'busybox']);
    assert.ok(statSync(archive).size > 0);
  });
  it('refuses events with the none backend, takes mount --notruncate, shows the manifest digest as ImageDigest', async () => {
    const none = await env.berth(['--events-backend', 'none', 'events']);
    assert.deepEqual([none.code, none.stderr], [125, 'Error: cannot read events with the "none" backend\n']);
    const id = (await env.ok(['create', '--name', 'digest-of', ...NONE, 'busybox', 'true'])).stdout.trim();
    await env.ok(['mount', 'digest-of']);
    assert.match((await env.ok(['mount', '--notruncate'])).stdout, new RegExp(`^${id} `, 'm'));
    await env.ok(['unmount', 'digest-of']);
    const image = JSON.parse((await env.ok(['image', 'inspect', 'busybox'])).stdout) as { Digest: string }[];
    assert.equal((await env.ok(['container', 'inspect', '--format', '{{.ImageDigest}}', 'digest-of'])).stdout.trim(), image[0]!.Digest);
    await env.ok(['rm', 'digest-of']);
  });
});

async function waitForLog(env: ContainerEnv, name: string, text: string): Promise<void> {
  for (let i = 0; ; i++) {
    if ((await env.ok(['logs', name])).stdout.includes(text)) return;
    assert.ok(i < 300, `${name} never logged ${JSON.stringify(text)}`);
    await sleep(50);
  }
}
