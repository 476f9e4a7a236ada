import assert from 'node:assert/strict';
import { chownSync, existsSync, readFileSync } from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthBin, busyboxRootfs } from '../testing/cli.js';
import { freePort } from '../testing/registry.js';
import { processesOf, rootlessUser, type RootlessUser } from '../testing/rootless-user.js';

/**
 * Rootless user-defined networks end to end, as an ordinary user the test makes: two containers on
 * one network, one serving HTTP, the other reaching it by name through aardvark-dns in the user's
 * rootless netns; the served port published on 127.0.0.1 and reached from the host; nothing left
 * (slirp4netns, aardvark-dns, mounts) after rm and after `system migrate`.
 */

/** The command lines of the user's live processes. */
function commandsOf(user: RootlessUser): string[] {
  return processesOf(user.uid).flatMap((pid) => {
    try {
      return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')];
    } catch {
      return []; // gone
    }
  });
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
  let user: RootlessUser;
  let port: number;
  const berth = (args: string[]) => user.as([berthBin, ...args]);
  const ok = (args: string[]) => user.ok([berthBin, ...args]);
  /** What of the rootless netns is still there: its processes, and the namespaces pinned in the user's mount namespace. */
  const leftovers = async () => {
    const procs = commandsOf(user)
      .filter((c) => /slirp4netns|aardvark-dns|conmon/.test(c))
      .map((c) => c.split(' ')[0]!);
    const mounts = (await berth(['unshare', 'cat', '/proc/self/mountinfo'])).stdout
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
    user = rootlessUser();
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
    const procs = commandsOf(user);
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
    const r = await berth(['network', 'create', '--subnet', '10.0.2.0/24', 'clash']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /subnet 10\.0\.2\.0\/24 is already used/);
  });

  test('a privileged host port is refused in one line that says what to do, and nothing is left', async (t) => {
    if (Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 80) return t.skip('port 80 is unprivileged here');
    const r = await berth(['run', '--rm', '--network', 'rlnet', '-p', '127.0.0.1:80:80', 'busybox', 'true']);
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
    const slirp = processesOf(user.uid).filter((pid) => /slirp4netns.*rootless-netns/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')));
    assert.equal(slirp.length, 1);
    process.kill(slirp[0]!, 'SIGKILL');
    await serve('web3');
    assert.equal(await servedPage(port), '200 hello-from-web');
    await ok(['rm', '-f', '-t', '0', 'idle', 'web3']);
    assert.deepEqual(await leftovers(), []);
  });

  test('a host resolver on the loopback (127.0.0.53) is reached from the rootless netns through slirp4netns', async (t) => {
    const resolver = await loopbackResolver().catch(() => undefined);
    if (!resolver) return t.skip('127.0.0.53:53 is taken on this host');
    try {
      // /etc/resolv.conf names the loopback resolver in the user's namespace, as on a host with
      // systemd-resolved: the commands from now on, and the rootless netns made by the next
      // container (none is up), see it.
      const fake = join(user.home, 'resolv.conf');
      writeFileSync(fake, 'nameserver 127.0.0.53\n', { mode: 0o644 });
      await ok(['unshare', 'mount', '--bind', fake, '/etc/resolv.conf']);
      assert.deepEqual(await leftovers(), []);
      const r = await ok(['run', '--rm', '--network', 'rlnet', 'busybox', 'nslookup', 'upstream.example']);
      assert.match(r.stdout, /Name:\s+upstream\.example\s+Address: 192\.0\.2\.7/);
    } finally {
      resolver.close();
    }
  });
});
