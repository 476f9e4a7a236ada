import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, berthBin, busyboxRootfs, hasCommand, ok, run, tempDir } from '../testing/cli.js';
import { freePort, type Registry, startRegistry } from '../testing/registry.js';
import { rootlessPodman } from '../testing/rootless-podman.js';
import { type RootlessUser, rootlessUser } from '../testing/rootless-user.js';

/** Gone, or a zombie nobody reaps yet (this machine's PID 1 reaps none). */
function ended(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') === true;
  } catch {
    return true;
  }
}

/**
 * berth as an ordinary user (issue 16's proof): a user made for the test with a subordinate range of
 * its own, berth re-executing itself in that user's namespace, and rootless podman beside it.
 */
describe('rootless berth', { timeout: 600_000 }, () => {
  const t = tempDir('berth-rootless-');
  const rootStore = join(t.path, 'root-store');
  const rootRun = join(t.path, 'root-run');
  let registry: Registry;
  let user: RootlessUser;
  let image: string;
  /** berth as the user, its default store (~/.local/share/berth) and run root ($XDG_RUNTIME_DIR/berth). */
  const b = (args: string[]) => user.as([berthBin, ...args]);
  const bOk = async (args: string[]) => {
    const r = await b(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  /** A directory of the user's, in its home. */
  const userDir = (name: string) => {
    const dir = join(user.home, name);
    mkdirSync(dir, { recursive: true });
    chownSync(dir, user.uid, user.gid);
    return dir;
  };
  const userFile = (path: string, text: string) => {
    writeFileSync(path, text);
    chownSync(path, user.uid, user.gid);
  };

  before(async () => {
    registry = await startRegistry(join(t.path, 'registry'));
    const tarball = join(t.path, 'busybox.tar');
    await busyboxRootfs(tarball);
    image = `${registry.host}/rootless/busybox:1`;
    for (const args of [
      ['import', '-q', '--change', 'CMD ["sh"]', tarball, 'busybox'],
      ['push', '-q', '--tls-verify=false', 'busybox', image],
    ]) {
      const r = await berth(rootStore, ['--runroot', rootRun, ...args]);
      assert.equal(r.code, 0, r.stderr);
    }
    user = rootlessUser();
  });
  after(async () => {
    user?.cleanup();
    await berth(rootStore, ['--runroot', rootRun, 'rm', '-af', '-t', '0']);
    await registry?.stop();
    t.cleanup();
  });

  test('pulls and runs as the user mapped to 0, with the image’s root files the user’s on the host', async () => {
    await bOk(['pull', '-q', '--tls-verify=false', image]);
    const r = await bOk(['run', '--rm', '--network', 'none', image, 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    const [id, ...map] = r.stdout.trim().split('\n');
    assert.equal(id, '0');
    assert.deepEqual(
      map.map((l) => l.trim().split(/\s+/).map(Number)),
      [
        [0, user.uid, 1],
        [1, user.subuid.start, 65536],
      ],
    );
    const layers = join(user.home, '.local', 'share', 'berth', 'layers');
    const owners = readdirSync(layers).map((l) => statSync(join(layers, l, 'diff', 'bin', 'busybox')).uid);
    assert.deepEqual(owners, [user.uid]);
    // Nothing of the root store is the user's: root's and the user's stores never share a file.
    assert.ok(
      !existsSync(join(user.home, '.local', 'share', 'berth', 'containers.json')) || statSync(join(user.home, '.local', 'share', 'berth')).uid === user.uid,
    );
  });

  test('info says rootless with the maps; unshare runs a command as 0 inside; limits are refused in one line', async () => {
    const info = JSON.parse((await bOk(['info', '--format', 'json'])).stdout) as {
      host: { security: { rootless: boolean }; rootlessNetworkCmd: string; idMappings: { uidmap: { container_id: number; host_id: number; size: number }[] } };
      store: { graphRoot: string; graphDriverName: string };
    };
    assert.equal(info.host.security.rootless, true);
    assert.equal(info.host.rootlessNetworkCmd, 'slirp4netns');
    assert.equal(info.store.graphDriverName, 'overlay');
    assert.deepEqual(info.host.idMappings.uidmap, [
      { container_id: 0, host_id: user.uid, size: 1 },
      { container_id: 1, host_id: user.subuid.start, size: 65536 },
    ]);
    assert.equal(info.store.graphRoot, join(user.home, '.local', 'share', 'berth'));
    const inside = await bOk(['unshare', 'sh', '-c', 'id -u; echo "$BERTH_ROOT"']);
    assert.equal(inside.stdout, `0\n${join(user.home, '.local', 'share', 'berth')}\n`);
    const limited = await b(['run', '--rm', '--network', 'none', '--memory', '10m', image, 'true']);
    assert.equal(limited.code, 125);
    assert.match(limited.stderr.trim(), /^Error: --memory: resource limits are not available rootless here: this host has cgroup v1/);
  });

  test('runc as well as crun; top lists the processes, stats refuses in podman’s words (no cgroup on v1)', async () => {
    assert.equal((await bOk(['run', '--rm', '--runtime', 'runc', '--network', 'none', image, 'id', '-u'])).stdout, '0\n');
    const id = (await bOk(['run', '-d', '--network', 'none', image, 'sleep', '60'])).stdout.trim();
    try {
      assert.match((await bOk(['top', id])).stdout, /sleep 60/);
      const stats = await b(['stats', '--no-stream', id]);
      assert.equal(stats.code, 125);
      assert.equal(stats.stderr.trim(), 'Error: stats is not supported in rootless mode without cgroups v2');
    } finally {
      await bOk(['rm', '-f', '-t', '0', id]);
    }
  });

  test('--userns=keep-id runs as the user’s own UID, and what it writes to a bind mount is the user’s', async () => {
    const shared = userDir('shared');
    const r = await bOk([
      'run',
      '--rm',
      '--network',
      'none',
      '--userns',
      'keep-id',
      '-v',
      `${shared}:/shared`,
      image,
      'sh',
      '-c',
      'id -u; echo hi > /shared/made; ls -ln /bin/busybox',
    ]);
    const [id, ls] = r.stdout.trim().split('\n');
    assert.equal(id, String(user.uid));
    assert.match(ls!, /^-\S+\s+\d+\s+0\s+0\s/, 'the image’s root files are root’s inside');
    assert.equal(statSync(join(shared, 'made')).uid, user.uid);
    // auto and nomap: the container's root is a subordinate ID, not the user.
    const auto = await bOk(['run', '--rm', '--network', 'none', '--userns', 'auto:size=2000', image, 'cat', '/proc/self/uid_map']);
    assert.deepEqual(auto.stdout.trim().split(/\s+/).map(Number), [0, 1, 2000]);
  });

  test('a pod as the user: its members share the infra’s /dev/shm and namespaces, and pod rm takes it all', async () => {
    await bOk(['pod', 'create', '--name', 'upod', '--network', 'none']);
    await bOk(['run', '--rm', '--pod', 'upod', image, 'sh', '-c', 'echo shared > /dev/shm/seg']);
    const r = await bOk(['run', '--rm', '--pod', 'upod', image, 'sh', '-c', 'cat /dev/shm/seg; hostname']);
    assert.equal(r.stdout, 'shared\nupod\n');
    await bOk(['pod', 'rm', '-f', '-t', '0', 'upod']);
    assert.equal((await b(['pod', 'exists', 'upod'])).code, 1);
  });

  test('-p on the default network (slirp4netns) is reached from the host', async () => {
    const port = await freePort();
    const id = (
      await bOk([
        'run',
        '-d',
        '-p',
        `127.0.0.1:${port}:80`,
        image,
        'sh',
        '-c',
        'mkdir /www && echo from-rootless > /www/index.html && exec httpd -f -p 80 -h /www',
      ])
    ).stdout.trim();
    try {
      let body = '';
      for (let i = 0; i < 100 && body !== 'from-rootless\n'; i++) {
        body = await fetch(`http://127.0.0.1:${port}/`).then(
          (r) => r.text(),
          () => '',
        );
        if (body !== 'from-rootless\n') await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(body, 'from-rootless\n');
      assert.match((await bOk(['port', id])).stdout, new RegExp(`^80/tcp -> 127\\.0\\.0\\.1:${port}$`, 'm'));
    } finally {
      await bOk(['rm', '-f', '-t', '0', id]);
    }
  });

  test('a build with RUN, COPY and --chown makes the same image as root’s with the same --timestamp', async () => {
    const ctx = userDir('ctx');
    userFile(join(ctx, 'Containerfile'), `FROM ${image}\nRUN echo built > /built && chown 7:8 /built\nCOPY --chown=5:6 file /file\n`);
    userFile(join(ctx, 'file'), 'content\n');
    const args = ['build', '-q', '--tls-verify=false', '--timestamp', '1700000000', ctx];
    const mine = (await bOk(args)).stdout.trim();
    const roots = await berth(rootStore, ['--runroot', rootRun, ...args]);
    assert.equal(roots.code, 0, roots.stderr);
    assert.equal(mine, roots.stdout.trim());
    const ls = await bOk(['run', '--rm', '--network', 'none', mine, 'ls', '-ln', '/built', '/file']);
    assert.match(ls.stdout, /1 7\s+8 .* \/built/);
    assert.match(ls.stdout, /1 5\s+6 .* \/file/);
  });

  test('registry serve on a high port takes a push from the same user', async () => {
    const port = await freePort();
    const server = user.start([berthBin, 'registry', 'serve', '--addr', `127.0.0.1:${port}`]);
    try {
      let pushed = false;
      for (let i = 0; i < 100 && !pushed; i++) {
        pushed = (await b(['push', '-q', '--tls-verify=false', image, `127.0.0.1:${port}/mine/busybox:1`])).code === 0;
        if (!pushed) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(pushed, 'the push to the user’s registry');
      const tags = await fetch(`http://127.0.0.1:${port}/v2/mine/busybox/tags/list`).then((r) => r.json());
      assert.deepEqual(tags, { name: 'mine/busybox', tags: ['1'] });
    } finally {
      server.kill('SIGKILL');
    }
  });

  test('beside rootless podman: the same image, the same digests, and each loads the other’s archive', { skip: !hasCommand('podman') }, async () => {
    const podman = rootlessPodman(user);
    await podman.ok(['pull', '-q', '--tls-verify=false', image]);
    const podmanId = (await podman.ok(['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();
    const berthId = (await bOk(['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();
    assert.equal(berthId, podmanId);
    const podmanDigest = (await podman.ok(['image', 'inspect', '--format', '{{.Digest}}', image])).stdout.trim();
    const berthDigest = (await bOk(['image', 'inspect', '--format', '{{.Digest}}', image])).stdout.trim();
    assert.equal(berthDigest, podmanDigest);
    const dir = userDir('archives');
    await bOk(['save', '-o', join(dir, 'from-berth.tar'), image]);
    await podman.ok(['save', '-o', join(dir, 'from-podman.tar'), image]);
    await podman.ok(['rmi', image]);
    await podman.ok(['load', '-q', '-i', join(dir, 'from-berth.tar')]);
    assert.equal((await podman.ok(['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim(), podmanId);
    await bOk(['rmi', '-f', image]);
    await bOk(['load', '-q', '-i', join(dir, 'from-podman.tar')]);
    assert.equal((await bOk(['run', '--rm', '--network', 'none', image, 'id', '-u'])).stdout, '0\n');
  });

  test('a pull killed with -9 leaves a store that opens and works', async () => {
    await bOk(['rmi', '-af']);
    for (const delay of [30, 120, 300]) {
      const child = user.start([berthBin, 'pull', '-q', '--tls-verify=false', image]);
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise((r) => setTimeout(r, delay));
      // The berth that setpriv became, and the one it re-executed in the namespace, are one process.
      child.kill('SIGKILL');
      await exited;
      await bOk(['images']);
    }
    await bOk(['pull', '-q', '--tls-verify=false', image]);
    assert.equal((await bOk(['run', '--rm', '--network', 'none', image, 'echo', 'works'])).stdout, 'works\n');
  });

  test('system migrate ends the namespace; the next command makes a new one', async () => {
    const pauseFile = join(user.runtimeDir, 'berth', 'pause.pid');
    const before = readFileSync(pauseFile, 'utf8').split(' ')[0];
    await bOk(['system', 'migrate']);
    assert.ok(!existsSync(pauseFile));
    assert.ok(ended(Number(before)), 'the old pause process is gone');
    assert.equal((await bOk(['run', '--rm', '--network', 'none', image, 'id', '-u'])).stdout, '0\n');
    assert.notEqual(readFileSync(pauseFile, 'utf8').split(' ')[0], before);
  });

  test('a run --rm killed with -9 leaves a store that works, and its monitor removes the container', async () => {
    const child = user.start([berthBin, 'run', '--rm', '--name', 'killed', '--network', 'none', image, 'sleep', '2']);
    const exited = new Promise((r) => child.once('exit', r));
    for (let i = 0; i < 100 && !(await b(['ps', '-q', '--filter', 'name=killed'])).stdout.trim(); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await exited;
    let left = 'killed';
    for (let i = 0; i < 100 && left; i++) {
      left = (await bOk(['ps', '-aq', '--filter', 'name=killed'])).stdout.trim();
      if (left) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(left, '', 'the container is removed by its monitor');
    assert.equal((await bOk(['run', '--rm', '--network', 'none', image, 'echo', 'works'])).stdout, 'works\n');
  });

  test('the namespace ends by itself once nothing is in it (no process, no mount) for two checks', async () => {
    await bOk(['system', 'migrate']);
    const pauseFile = join(user.runtimeDir, 'berth', 'pause.pid');
    // Checks every second here (a minute by default); the variable reaches the pause as the namespace is made.
    const env = { BERTH_PAUSE_CHECK_SECONDS: '1' };
    const r = await user.as([berthBin, 'run', '-d', '--network', 'none', image, 'sleep', '5'], { env });
    assert.equal(r.code, 0, r.stderr);
    const pause = Number(readFileSync(pauseFile, 'utf8').split(' ')[0]);
    await new Promise((res) => setTimeout(res, 2500));
    assert.ok(!ended(pause), 'the pause lives while the container runs');
    for (let i = 0; i < 100 && !ended(pause); i++) await new Promise((res) => setTimeout(res, 100));
    assert.ok(ended(pause), 'the pause ends after the container has gone');
    const ps = await bOk(['ps', '-a', '--format', '{{.Status}}']);
    assert.match(ps.stdout, /^Exited \(0\)/);
    await bOk(['rm', '-a']);
  });

  test('without a subordinate range: one line saying what to add, exit 125', async () => {
    // A user of its own, with no range at all (useradd would give one).
    const name = `berth-rl-nosub${process.pid}`;
    await ok('useradd', ['-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name]);
    const uid = Number((await ok('id', ['-u', name])).stdout.trim());
    try {
      const r = await run(
        'setpriv',
        [
          '--reuid',
          String(uid),
          '--regid',
          String(uid),
          '--clear-groups',
          '--',
          'env',
          '-i',
          'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
          `HOME=${t.path}`,
          berthBin,
          'images',
        ],
        { cwd: '/' },
      );
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^Error: no subordinate UIDs for ${name} in /etc/subuid: add a range, e.g. "${name}:100000:65536"`));
    } finally {
      await run('userdel', ['-f', name]);
      rmSync(`/tmp/berth-${uid}`, { recursive: true, force: true });
    }
  });
});
