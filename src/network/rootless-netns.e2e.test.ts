import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthBin, busyboxRootfs, run, SYNC_TIMEOUT_MS, type RunResult } from '../testing/cli.js';
import { freePort } from '../testing/registry.js';

/**
 * Rootless user-defined networks end to end, as an ordinary user the test makes: two containers on
 * one network, one serving HTTP, the other reaching it by name through aardvark-dns in the user's
 * rootless netns; the served port published on 127.0.0.1 and reached from the host; nothing left
 * (slirp4netns, aardvark-dns, mounts) after rm and after `system migrate`.
 *
 * The user is made by a small local harness: testing/rootless-user.ts (another branch) is not on
 * main yet; this one should give way to it once it is.
 */

const DEVICES = ['/dev/net/tun'];
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: SYNC_TIMEOUT_MS, killSignal: 'SIGKILL' });

interface User {
  name: string;
  uid: number;
  home: string;
  runtimeDir: string;
  /** The argv that runs berth with these arguments as the user. */
  argv(args: string[]): string[];
  berth(args: string[]): Promise<RunResult>;
  /** Kills every process of the user (its pause process with them: the next command makes its namespace anew). */
  killAll(): void;
  cleanup(): void;
}

/** A start for a subordinate range no line of /etc/subuid or /etc/subgid touches. */
function freeRange(size: number): number {
  const taken = ['/etc/subuid', '/etc/subgid'].flatMap((f) =>
    (existsSync(f) ? readFileSync(f, 'utf8') : '')
      .split('\n')
      .map((l) => l.split(':').map(Number))
      .filter((p) => p.length === 3),
  );
  for (;;) {
    const start = 1_500_000_000 + randomInt(5000) * size;
    if (!taken.some(([, s, n]) => start < s! + n! && s! < start + size)) return start;
  }
}

/** The user's live processes (its own UID, or one of its range: a container's). */
function processesOf(uid: number, range: [number, number]): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      const id = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (id === uid || (id >= range[0] && id < range[0] + range[1]))
        out.push({ pid: Number(pid), cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // gone
    }
  }
  return out;
}

function makeUser(): User {
  const name = `berth-rn-${randomInt(1e6).toString(36)}`;
  const size = 65536;
  const start = freeRange(size);
  const made = sh('useradd', ['-m', '-U', '-s', '/usr/sbin/nologin', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name]);
  assert.equal(made.status, 0, made.stderr);
  const rangeArg = `${start}-${start + size - 1}`;
  sh('usermod', ['--add-subuids', rangeArg, '--add-subgids', rangeArg, name]);
  const uid = Number(sh('id', ['-u', name]).stdout.trim());
  const home = `/home/${name}`;
  const runtimeDir = `/run/user/${uid}`;
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  chownSync(runtimeDir, uid, uid);
  // This machine kind has /dev/net/tun 0600 (stock Debian 0666): opened for the test, put back after.
  const modes = DEVICES.map((d) => [d, statSync(d).mode & 0o777] as const);
  for (const d of DEVICES) chmodSync(d, 0o666);
  const env = [`HOME=${home}`, `USER=${name}`, `XDG_RUNTIME_DIR=${runtimeDir}`, 'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'];
  const argv = (args: string[]) => [
    '/usr/bin/env',
    '-i',
    ...env,
    '/usr/bin/setpriv',
    `--reuid=${uid}`,
    `--regid=${uid}`,
    '--init-groups',
    '--',
    berthBin,
    ...args,
  ];
  const killAll = () => {
    for (let i = 0; i < 50; i++) {
      const left = processesOf(uid, [start, size]);
      if (left.length === 0) break;
      for (const p of left) sh('kill', ['-9', String(p.pid)]);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  };
  return {
    name,
    uid,
    home,
    runtimeDir,
    argv,
    berth: (args) => run(argv(args)[0]!, argv(args).slice(1), { cwd: home }),
    killAll,
    cleanup: () => {
      killAll();
      sh('usermod', ['--del-subuids', rangeArg, '--del-subgids', rangeArg, name]);
      sh('userdel', ['-r', '-f', name]);
      rmSync(runtimeDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
      for (const [d, mode] of modes) chmodSync(d, mode);
    },
  };
}

/** GET http://127.0.0.1:PORT/ from the host: status and body, or the error's code. */
function httpGet(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/**
 * A stand-in for a resolver on the host's loopback (systemd-resolved's 127.0.0.53): every query
 * answered with one A record, 192.0.2.7.
 */
function loopbackResolver(): Promise<Socket> {
  const s = createSocket('udp4');
  s.on('message', (msg, peer) => {
    let end = 12;
    while (end < msg.length && msg[end] !== 0) end += msg[end]! + 1;
    const question = msg.subarray(12, end + 5);
    const header = Buffer.from([msg[0]!, msg[1]!, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
    s.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(53, '127.0.0.53', () => resolve(s));
  });
}

/**
 * The page once the container serves it: `run -d` returns before httpd listens, and until then
 * slirp4netns takes the connection and the container resets it. Up to 10 s.
 */
async function servedPage(port: number): Promise<string> {
  let seen = '';
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    seen = await httpGet(port);
    if (seen.startsWith('200 ')) break;
  }
  return seen;
}

const isRoot = process.getuid?.() === 0;
const canRun = isRoot && existsSync('/usr/bin/setpriv') && existsSync('/usr/bin/slirp4netns') && existsSync('/usr/bin/newuidmap');

describe('rootless user-defined networks', {
  timeout: 6 * 60_000,
  skip: canRun ? false : 'needs root (to make a user), setpriv, slirp4netns, newuidmap',
}, () => {
  let user: User;
  let port: number;
  const ok = async (args: string[]) => {
    const r = await user.berth(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  /** What of the rootless netns is still there: its processes, and the namespaces pinned in the user's mount namespace. */
  const leftovers = async () => {
    const procs = processesOf(user.uid, [0, 0])
      .filter((p) => /slirp4netns|aardvark-dns|conmon/.test(p.cmd))
      .map((p) => p.cmd.split(' ')[0]!);
    const mounts = (await user.berth(['unshare', 'cat', '/proc/self/mountinfo'])).stdout
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(user.runtimeDir) && /netns/.test(m));
    return [...procs, ...mounts];
  };
  const serve = (name: string) =>
    ok([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'rlnet',
      '-p',
      `127.0.0.1:${port}:80`,
      'busybox',
      'sh',
      '-c',
      'mkdir /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www',
    ]);

  before(async () => {
    user = makeUser();
    port = await freePort();
    const tarball = join(user.home, 'busybox.tar');
    await busyboxRootfs(tarball);
    chownSync(tarball, user.uid, user.uid);
    await ok(['import', '--change', 'CMD ["sh"]', tarball, 'busybox']);
    await ok(['network', 'create', 'rlnet']);
  });
  after(() => user?.cleanup());

  test('two containers on a user network: one reaches the other by name, and its published port is reached from the host', async () => {
    await serve('web');
    // busybox's wget on this machine resolves through aardvark-dns, the network's gateway.
    const client = await ok(['run', '--rm', '--network', 'rlnet', 'busybox', 'sh', '-c', 'head -1 /etc/resolv.conf; wget -qO- http://web/']);
    const [resolver, body] = client.stdout.trim().split('\n');
    assert.match(resolver!, /^search dns\.podman/);
    assert.equal(body, 'hello-from-web');
    assert.equal(await servedPage(port), '200 hello-from-web');
    // Everything of the network runs as the user, in the user's rootless netns (slirp4netns attached to it).
    const procs = processesOf(user.uid, [0, 0]).map((p) => p.cmd);
    assert.ok(
      procs.some((c) => c.includes('slirp4netns') && c.includes('rootless-netns')),
      procs.join('\n'),
    );
    assert.ok(
      procs.some((c) => c.includes('aardvark-dns')),
      procs.join('\n'),
    );
  });

  test('the last container off the network ends slirp4netns, aardvark-dns and the namespace; the port is closed', async () => {
    await ok(['rm', '-f', '-t', '0', 'web']);
    assert.deepEqual(await leftovers(), []);
    assert.equal(await httpGet(port), 'ECONNREFUSED');
  });

  test('slirp4netns’s own subnet in the rootless netns is not given to a network', async () => {
    const r = await user.berth(['network', 'create', '--subnet', '10.0.2.0/24', 'clash']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /subnet 10\.0\.2\.0\/24 is already used/);
  });

  test('a privileged host port is refused in one line that says what to do, and nothing is left', async (t) => {
    if (Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 80) return t.skip('port 80 is unprivileged here');
    const r = await user.berth(['run', '--rm', '--network', 'rlnet', '-p', '127.0.0.1:80:80', 'busybox', 'true']);
    assert.equal(r.code, 126, r.stderr);
    assert.match(
      r.stderr,
      /^Error: rootless berth cannot expose privileged port 80, you can add 'net\.ipv4\.ip_unprivileged_port_start=80' to \/etc\/sysctl\.conf/,
    );
    assert.deepEqual(await leftovers(), []);
  });

  test('a container started again makes the rootless netns anew; system migrate leaves nothing of it', async () => {
    await serve('web2');
    assert.equal(await servedPage(port), '200 hello-from-web');
    await ok(['system', 'migrate']);
    assert.deepEqual(await leftovers(), []);
    assert.equal(await httpGet(port), 'ECONNREFUSED');
    await ok(['rm', '-f', '-t', '0', 'web2']);
  });

  test('a rootless netns whose slirp4netns was killed is made anew by the next container', async () => {
    await ok(['run', '-d', '--name', 'idle', '--network', 'rlnet', 'busybox', 'sleep', '300']);
    const slirp = processesOf(user.uid, [0, 0]).filter((p) => p.cmd.includes('slirp4netns') && p.cmd.includes('rootless-netns'));
    assert.equal(slirp.length, 1);
    process.kill(slirp[0]!.pid, 'SIGKILL');
    await serve('web3');
    assert.equal(await servedPage(port), '200 hello-from-web');
    await ok(['rm', '-f', '-t', '0', 'idle', 'web3']);
    assert.deepEqual(await leftovers(), []);
  });

  test('a host resolver on the loopback (127.0.0.53) is reached from the rootless netns through slirp4netns', async (t) => {
    const resolver = await loopbackResolver().catch(() => undefined);
    if (!resolver) return t.skip('127.0.0.53:53 is taken on this host');
    try {
      // The user's namespace made anew where /etc/resolv.conf names the loopback resolver, as on a
      // host with systemd-resolved: its later commands, slirp4netns and aardvark-dns all see it.
      user.killAll();
      // A killed pause may stay a zombie a while, which berth's pause file would still name.
      rmSync(join(user.runtimeDir, 'berth', 'pause.pid'), { force: true });
      const fake = join(user.home, 'resolv.conf');
      writeFileSync(fake, 'nameserver 127.0.0.53\n', { mode: 0o644 });
      const first = user.argv(['ps']);
      const made = await run('unshare', [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"',
        'sh',
        fake,
        ...first,
      ]);
      assert.equal(made.code, 0, made.stderr);
      const r = await ok(['run', '--rm', '--network', 'rlnet', 'busybox', 'nslookup', 'upstream.example']);
      assert.match(r.stdout, /Name:\s+upstream\.example\s+Address: 192\.0\.2\.7/);
    } finally {
      resolver.close();
    }
  });
});
