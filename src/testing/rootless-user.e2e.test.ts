import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { berth, busyboxRootfs, hasCommand, ok, processGone, tempDir } from './cli.js';
import { repoRoot } from './fixtures.js';
import { startRegistry } from './registry.js';
import { deviceHolders, deviceModes, recordedModes, ROOTLESS_DEVICES } from './rootless-devices.js';
import { rootlessPodman } from './rootless-podman.js';
import { processesOf, type RootlessUser, rootlessUser, subordinateRanges, sweepRootlessLeftovers, USER_PREFIX } from './rootless-user.js';

const cliJs = join(repoRoot, 'dist', 'lib', 'testing', 'rootless-user-cli.js');

/** A process that leaves the command's session, as a pause process does (its output away from the command's pipes, which run() waits to close). */
const DETACHED_SLEEP = ['sh', '-c', 'setsid -f sleep 1000 </dev/null >/dev/null 2>&1'];

function inPasswd(name: string): boolean {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .some((l) => l.startsWith(`${name}:`));
}

/** Asserts that nothing of the user is left on the host. */
function assertGone(u: { name: string; uid: number; home: string; runtimeDir: string; subuid: { start: number; count: number } }): void {
  assert.ok(!inPasswd(u.name), `${u.name} is still in /etc/passwd`);
  for (const file of ['/etc/subuid', '/etc/subgid'] as const) {
    assert.deepEqual(
      subordinateRanges(file).filter((l) => l.owner === u.name || l.range.start === u.subuid.start),
      [],
      `${file} still has ${u.name}'s range`,
    );
  }
  assert.deepEqual(processesOf(u.uid, [u.subuid]), [], `processes of ${u.name} are left`);
  assert.ok(!existsSync(u.home), `${u.home} is left`);
  assert.ok(!existsSync(u.runtimeDir), `${u.runtimeDir} is left`);
  assert.ok(!deviceHolders().includes(u.name), `${u.name} still holds the devices open`);
}

/** With no other holder (another test file running), the devices have their original modes back. */
function assertDevicesRestored(original: Map<string, number>): void {
  if (deviceHolders().length === 0) assert.deepEqual(deviceModes(), original);
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 200 && !processGone(pid); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(processGone(pid), `process ${pid} did not end`);
}

describe('rootlessUser', { timeout: 180_000 }, () => {
  const users: RootlessUser[] = [];
  const made = () => {
    const u = rootlessUser();
    users.push(u);
    return u;
  };
  after(() => {
    for (const u of users) u.cleanup();
  });

  test('runs commands as a new user with a range of its own, a clean environment and the devices open; cleanup removes all of it', async () => {
    const u = made();
    assert.ok(u.name.startsWith(USER_PREFIX));
    assert.notEqual(u.uid, 0);
    assert.equal((await u.ok(['id', '-u'])).stdout.trim(), String(u.uid));
    assert.equal((await u.ok(['id', '-g'])).stdout.trim(), String(u.gid));
    assert.equal((await u.ok(['pwd'])).stdout.trim(), u.home);
    const env = (await u.ok(['env'])).stdout.trim().split('\n').sort();
    assert.deepEqual(
      env,
      Object.entries(u.env)
        .map(([k, v]) => `${k}=${v}`)
        .sort(),
    );
    assert.deepEqual(
      Object.keys(u.env)
        .filter((k) => k !== 'BERTH_TEST_RUN')
        .sort(),
      ['HOME', 'LOGNAME', 'PATH', 'USER', 'XDG_RUNTIME_DIR'],
    );
    assert.equal(u.env['XDG_RUNTIME_DIR'], `/run/user/${u.uid}`);
    assert.equal((await u.ok(['env'], { env: { XDG_DATA_HOME: `${u.home}/data` } })).stdout.includes(`XDG_DATA_HOME=${u.home}/data\n`), true);

    // Exactly one range each, of 65536, that no other line of the files touches.
    for (const file of ['/etc/subuid', '/etc/subgid'] as const) {
      const lines = subordinateRanges(file);
      const mine = lines.filter((l) => l.owner === u.name);
      assert.deepEqual(
        mine.map((l) => l.range),
        [file === '/etc/subuid' ? u.subuid : u.subgid],
      );
      const r = mine[0]!.range;
      assert.equal(r.count, 65536);
      for (const other of lines.filter((l) => l.owner !== u.name)) {
        assert.ok(other.range.start + other.range.count <= r.start || r.start + r.count <= other.range.start, `${file}: overlaps ${other.owner}`);
      }
    }
    const rt = statSync(u.runtimeDir);
    assert.equal(rt.mode & 0o777, 0o700);
    assert.equal(rt.uid, u.uid);

    // The devices are open to the user while it exists, their original modes recorded.
    const original = recordedModes();
    assert.ok(original, 'no original device modes recorded');
    for (const [path, mode] of deviceModes()) assert.equal(mode, 0o666, `${path} is ${mode.toString(8)}`);
    for (const d of ROOTLESS_DEVICES) if (existsSync(d)) assert.equal((await u.as(['test', '-r', d, '-a', '-w', d])).code, 0, `${d} not usable by the user`);
    assert.ok(deviceHolders().includes(u.name));

    // A process that left the command's session (as a pause process does) dies with the user.
    await u.ok(DETACHED_SLEEP);
    assert.equal(processesOf(u.uid).length, 1);
    await u.ok(['sh', '-c', 'echo x > /tmp/berth-rl-test-file; mkdir /tmp/berth-rl-test-dir-$(id -u)']);

    u.cleanup();
    assertGone(u);
    assert.ok(!existsSync('/tmp/berth-rl-test-file'));
    assert.ok(!existsSync(`/tmp/berth-rl-test-dir-${u.uid}`));
    assertDevicesRestored(original);
    u.cleanup(); // twice is harmless (the after() hook does it again)
  });

  test('two users hold the devices open together; the last one out restores them', () => {
    const a = made();
    const original = recordedModes()!;
    const b = made();
    assert.notEqual(a.subuid.start, b.subuid.start);
    a.cleanup();
    for (const [path, mode] of deviceModes()) assert.equal(mode, 0o666, `${path} closed while ${b.name} holds it`);
    b.cleanup();
    assertGone(a);
    assertGone(b);
    assertDevicesRestored(original);
  });

  test('a new user does not inherit what an earlier account with the same uid left in /run/user and /tmp', (t) => {
    const a = made();
    a.cleanup();
    // What an account removed without this harness leaves: a podman runtime dir, a berth run root.
    const stale = [join(a.runtimeDir, 'libpod', 'tmp', 'pause.pid'), `/tmp/berth-rl-stale-${a.uid}`];
    for (const f of stale) {
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, '1\n');
    }
    chownSync(a.runtimeDir, a.uid, a.gid);
    chownSync(stale[1]!, a.uid, a.gid);
    try {
      const b = made();
      // useradd gives the lowest free uid above the highest in use: a.uid again, unless another
      // test file made a user in between.
      if (b.uid !== a.uid) return t.skip(`uid ${a.uid} was not reused (got ${b.uid})`);
      assert.ok(!existsSync(stale[0]!), `${stale[0]} survived`);
      assert.ok(!existsSync(stale[1]!), `${stale[1]} survived`);
      assert.deepEqual(readdirSync(b.runtimeDir), []);
      b.cleanup();
    } finally {
      // Left only when the uid went to another test file's user: then the files are its, not this test's.
      const uidInUse = readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .some((l) => l.split(':')[2] === String(a.uid));
      if (!uidInUse) for (const f of [a.runtimeDir, stale[1]!]) rmSync(f, { recursive: true, force: true });
    }
  });

  test('a user whose owning process was killed is swept, with its processes and device hold', async () => {
    // The owner: a node process that makes a user through the harness (as a test file does),
    // starts a process as it and is then killed with SIGKILL, so that no cleanup of its own runs.
    const owner = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(join(repoRoot, 'dist', 'lib', 'testing', 'rootless-user.js'))});
       const u = m.rootlessUser();
       await u.ok(${JSON.stringify(DETACHED_SLEEP)});
       console.log(JSON.stringify(u));
       setInterval(() => {}, 1000);`,
    ]);
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      owner.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      owner.stderr.on('data', (c: Buffer) => (err += c.toString()));
      owner.on('exit', (code) => reject(new Error(`the owner exited ${code}: ${err}`)));
    });
    try {
      const left = JSON.parse(line) as RootlessUser;
      assert.ok(inPasswd(left.name));
      assert.equal(processesOf(left.uid).length, 1);
      assert.ok(deviceHolders().includes(left.name));
      const original = recordedModes()!;
      owner.kill('SIGKILL');
      await waitGone(owner.pid!);

      // Its holder is dead: not counted, and the next harness call sweeps the user.
      assert.ok(!deviceHolders().includes(left.name));
      sweepRootlessLeftovers();
      assertGone(left);
      assertDevicesRestored(original);
    } finally {
      owner.kill('SIGKILL');
      await waitGone(owner.pid!);
      sweepRootlessLeftovers();
    }
  });

  test('the CLI (for bench/rootless.sh) makes a user owned by a given process and removes it', async () => {
    const created = await ok(process.execPath, [cliJs, 'create', '--owner', String(process.pid)]);
    const [name, uid, gid, home, runtimeDir] = created.stdout.trim().split(' ');
    assert.ok(name?.startsWith(USER_PREFIX));
    assert.ok(inPasswd(name!));
    assert.equal(home, `/home/${name}`);
    assert.equal(runtimeDir, `/run/user/${uid}`);
    assert.equal(statSync(home!).gid, Number(gid));
    // The CLI's process has ended; the user lives on, as its owner (this process) does.
    sweepRootlessLeftovers();
    assert.ok(inPasswd(name!));
    const conf = (await ok(process.execPath, [cliJs, 'podman-conf', name!])).stdout.trim();
    assert.match(readFileSync(conf, 'utf8'), /default_ulimits/);
    const range = subordinateRanges('/etc/subuid').find((l) => l.owner === name)!.range;
    await ok(process.execPath, [cliJs, 'remove', name!]);
    assertGone({ name: name!, uid: Number(uid), home: home!, runtimeDir: runtimeDir!, subuid: range });
    const bad = await ok(process.execPath, [cliJs, 'remove', 'root']).catch((e: Error) => e.message);
    assert.match(String(bad), /root is not a user this harness made/);
  });
});

describe('rootlessPodman', { timeout: 300_000 }, () => {
  const t = tempDir('berth-rl-podman-');
  let user: RootlessUser | undefined;
  let stopRegistry = async () => {};
  after(async () => {
    user?.cleanup();
    await stopRegistry();
    t.cleanup();
  });

  test('rootless podman pulls from a registry on 127.0.0.1 and runs busybox as the user mapped to 0', { skip: !hasCommand('podman') }, async () => {
    const registry = await startRegistry(join(t.path, 'registry'));
    stopRegistry = registry.stop;
    const tarball = join(t.path, 'busybox.tar');
    await busyboxRootfs(tarball);
    const store = join(t.path, 'store');
    const ref = `${registry.host}/rootless/busybox:1`;
    for (const args of [
      ['import', '-q', '--change', 'CMD ["sh"]', tarball, 'busybox'],
      ['push', '-q', '--tls-verify=false', 'busybox', ref],
    ]) {
      const r = await berth(store, ['--runroot', join(t.path, 'run'), ...args]);
      assert.equal(r.code, 0, r.stderr);
    }

    user = rootlessUser();
    const podman = rootlessPodman(user);
    await podman.ok(['pull', '-q', '--tls-verify=false', ref]);
    assert.equal((await podman.ok(['run', '--rm', '--network', 'none', ref, 'id', '-u'])).stdout, '0\n');
    const map = (await podman.ok(['run', '--rm', '--network', 'none', ref, 'cat', '/proc/self/uid_map'])).stdout;
    assert.deepEqual(
      map
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/).map(Number)),
      [
        [0, user.uid, 1],
        [1, user.subuid.start, 65536],
      ],
    );
    // The default network is slirp4netns, which opens /dev/net/tun as the user.
    assert.equal((await podman.ok(['run', '--rm', ref, 'true'])).code, 0);

    // Files the image has as root's are the user's on the host.
    const layers = join(user.home, '.local', 'share', 'containers', 'storage', 'overlay');
    const owners = readdirSync(layers)
      .map((l) => join(layers, l, 'diff', 'bin', 'busybox'))
      .filter((p) => existsSync(p))
      .map((p) => statSync(p).uid);
    assert.deepEqual(owners, [user.uid]);

    user.cleanup();
    assertGone(user);
  });
});
