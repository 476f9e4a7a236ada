import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCommand } from '../testing/cli.js';
import { containerEnv, type ContainerEnv, inspectContainer } from '../testing/containers.js';
import { freePort } from '../testing/registry.js';
import { waitFor as waitUntil } from '../testing/wait.js';

/** Every wait of this file is bounded at 15,000 ms. */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined> | T | undefined): Promise<T> => waitUntil(what, fn, 15_000);

type Mode = 'slirp4netns' | 'pasta';

/** The forwarders (slirp4netns, pasta) alive for this run root: their command lines name its namespace files. */
function forwardersOf(runRoot: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    // A zombie's command line is empty: it is gone but for its exit status.
    if (/(^|\/)(slirp4netns|pasta)$/.test(argv[0] ?? '') && argv.some((a) => a.startsWith(runRoot))) found.push(`${pid} ${argv.join(' ')}`);
  }
  return found;
}

/** What a run root holds for user-mode networks: forwarder files and pinned namespaces. */
function leftovers(runRoot: string): string[] {
  const dirs = [join(runRoot, 'networks', 'slirp4netns'), join(runRoot, 'networks', 'pasta'), join(runRoot, 'netns')];
  return dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : []));
}

/** GET over node's http: the status and body, or undefined while nothing answers. */
function httpGet(port: number, path: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** A TCP server on every host address that answers one line with `pong` and closes, keeping what it got. */
async function pongServer(): Promise<{ port: number; got: string[]; server: Server }> {
  const port = await freePort();
  const got: string[] = [];
  const server = createServer((sock) => {
    sock.once('data', (d: Buffer) => {
      got.push(d.toString());
      sock.end('pong\n');
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  return { port, got, server };
}

/** Whether a TCP port can be bound on 127.0.0.1 (nothing holds it any more). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The host's nameservers a container not on slirp's DNS gets: all but loopback ones. */
const hostNameservers = () =>
  readFileSync('/etc/resolv.conf', 'utf8')
    .split('\n')
    .filter((l) => /^nameserver\s/.test(l) && !/^nameserver\s+127\./.test(l))
    .map((l) => l.trim());

/**
 * How each mode reaches the host from inside: through slirp4netns the host's own address
 * (host.containers.internal); through pasta the gateway's, which `--map-gw` maps to the host.
 */
const toHost: Record<Mode, string> = { slirp4netns: 'slirp4netns', pasta: 'pasta:--map-gw' };

for (const mode of ['slirp4netns', 'pasta'] as const) {
  const missing = !hasCommand(mode);
  describe(`user-mode network: ${mode}`, { timeout: 300_000, skip: missing ? `${mode} is not installed (scripts/setup.sh installs it)` : false }, () => {
    let env: ContainerEnv;
    before(async () => (env = await containerEnv()));
    after(() => env?.cleanup());

    it('publishes -p 127.0.0.1:PORT:80 to an httpd in the container; port and inspect show it; rm leaves nothing', async () => {
      const [port, udp] = [await freePort(), await freePort()];
      const name = `web-${mode}`;
      await env.ok([
        'run',
        '-d',
        '--name',
        name,
        '--network',
        mode,
        '-p',
        `127.0.0.1:${port}:80`,
        '-p',
        `${udp}:5353/udp`,
        'busybox',
        'sh',
        '-c',
        'mkdir /www && echo "served from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www',
      ]);
      const page = await waitFor('the published httpd', () => httpGet(port, '/index.html'));
      assert.equal(page.status, 200);
      assert.match(page.body, /^served from \w+/);
      assert.equal((await env.ok(['port', name])).stdout, `80/tcp -> 127.0.0.1:${port}\n5353/udp -> 0.0.0.0:${udp}\n`);
      const info = await inspectContainer(env, name);
      assert.deepEqual(info.NetworkSettings.Ports, {
        '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }],
        '5353/udp': [{ HostIp: '', HostPort: String(udp) }],
      });
      assert.equal(info.HostConfig.NetworkMode, mode);
      assert.match(info.NetworkSettings.SandboxKey, new RegExp(`^${env.runRoot}/netns/`));
      assert.equal(forwardersOf(env.runRoot).length, 1, 'one forwarder serves the container');
      // The forwarder binds the host port itself: nothing else may take it while the container runs.
      assert.equal(await portFree(port), false);
      await env.ok(['rm', '-f', '-t', '0', name]);
      assert.deepEqual(forwardersOf(env.runRoot), []);
      assert.deepEqual(leftovers(env.runRoot), []);
      assert.equal(await portFree(port), true);
    });

    it('reaches a TCP and a UDP server on the host', async () => {
      const tcp = await pongServer();
      const udpPort = await freePort();
      const datagrams: string[] = [];
      const udp = createSocket('udp4');
      udp.on('message', (_m, from) => datagrams.push(from.address));
      await new Promise<void>((resolve) => udp.bind(udpPort, '0.0.0.0', resolve));
      try {
        // nslookup is busybox's UDP client: any answer will do, the datagram reaching the host is the point.
        const script = `echo ping | timeout 5 nc host.containers.internal ${tcp.port}; timeout 3 nslookup -timeout=1 x.test host.containers.internal:${udpPort} >/dev/null 2>&1; true`;
        const r = await env.ok(['run', '--rm', '--network', toHost[mode], 'busybox', 'sh', '-c', script]);
        assert.equal(tcp.got.length, 1, 'one connection reached the host');
        assert.match(tcp.got[0]!, /^ping\n/);
        // This pasta build (passt 2023-03-09) repeats data and does not pass the host's close on
        // with this kernel: the answer's start is checked, nc's end is left to its timeout.
        if (mode === 'slirp4netns') assert.equal(r.stdout, 'pong\n');
        else assert.match(r.stdout, /^pong\n/);
        assert.ok(datagrams.length > 0, 'the UDP query reached the host');
      } finally {
        tcp.server.close();
        udp.close();
      }
      assert.deepEqual(forwardersOf(env.runRoot), []);
    });

    it("writes resolv.conf and hosts for the mode's addresses", async () => {
      const r = await env.ok(['run', '--rm', '--hostname', 'box', '--network', mode, 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; echo ---; cat /etc/hosts']);
      const [resolv, hosts] = r.stdout.split('---\n') as [string, string];
      const servers = resolv.split('\n').filter((l) => l.startsWith('nameserver'));
      if (mode === 'slirp4netns') {
        // slirp4netns's DNS forwarder first, then the host's, as podman writes it.
        assert.deepEqual(servers, ['nameserver 10.0.2.3', ...hostNameservers()]);
        assert.match(hosts, /^10\.0\.2\.100\tbox \S+$/m);
      } else {
        assert.deepEqual(servers, hostNameservers());
        assert.match(hosts, /^\d+\.\d+\.\d+\.\d+\tbox \S+$/m);
        // Without --map-gw nothing reaches the host: no name for it.
        assert.doesNotMatch(hosts, /host\.containers\.internal/);
      }
    });

    it('a port picked at start (-p 80) is shown by port, and a stop leaves no forwarder', async () => {
      const name = `picked-${mode}`;
      await env.ok([
        'run',
        '-d',
        '--name',
        name,
        '--network',
        mode,
        '-p',
        '80',
        'busybox',
        'sh',
        '-c',
        'mkdir /www && echo hi > /www/i && exec httpd -f -p 80 -h /www',
      ]);
      const line = (await env.ok(['port', name, '80/tcp'])).stdout.trim();
      const port = Number(/:(\d+)$/.exec(line)?.[1]);
      assert.ok(port > 0, line);
      const page = await waitFor('the picked port', () => httpGet(port, '/i'));
      assert.equal(page.body, 'hi\n');
      await env.ok(['stop', '-t', '0', name]);
      assert.deepEqual(forwardersOf(env.runRoot), []);
      assert.deepEqual(leftovers(env.runRoot), []);
      await env.ok(['rm', name]);
    });

    it('refuses what it cannot do in one Error line', async () => {
      const bad = mode === 'slirp4netns' ? [`${mode}:port_handler=rootlesskit`, `${mode}:nosuch=1`] : [`${mode}:--netns,/tmp/x`];
      for (const network of bad) {
        const r = await env.berth(['create', '--network', network, 'busybox']);
        assert.equal(r.code, 125, r.stderr);
        assert.match(r.stderr, /^Error: --network (slirp4netns|pasta): .+\n$/);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
      const sctp = await env.berth(['create', '--network', mode, '-p', '9999:9999/sctp', 'busybox']);
      assert.equal(sctp.code, 125);
      assert.match(sctp.stderr, /^Error: --network \S+ cannot publish SCTP ports/m);
    });
  });
}

describe('user-mode network: slirp4netns options and lifetime', {
  timeout: 300_000,
  skip: hasCommand('slirp4netns') ? false : 'slirp4netns is not installed',
}, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it("cidr, mtu and allow_host_loopback: the subnet's addresses, and the host's loopback reached at its .2", async () => {
    const tcp = await pongServer();
    try {
      const network = 'slirp4netns:cidr=10.0.3.0/24,mtu=1500,allow_host_loopback=true,enable_ipv6=false,port_handler=slirp4netns';
      const script = `ip -4 -o addr show tap0; cat /sys/class/net/tap0/mtu; grep -E 'nameserver|host.containers' /etc/resolv.conf /etc/hosts; echo ping | timeout 5 nc 10.0.3.2 ${tcp.port}`;
      const r = await env.ok(['run', '--rm', '--network', network, 'busybox', 'sh', '-c', script]);
      assert.match(r.stdout, /inet 10\.0\.3\.100\/24/);
      assert.match(r.stdout, /^1500$/m);
      assert.match(r.stdout, /resolv\.conf:nameserver 10\.0\.3\.3$/m);
      assert.match(r.stdout, /hosts:10\.0\.3\.2\thost\.containers\.internal/m);
      assert.match(r.stdout, /pong\n$/);
      assert.deepEqual(tcp.got, ['ping\n']);
    } finally {
      tcp.server.close();
    }
  });

  it("IPv6 host addresses are refused: slirp4netns's API publishes on IPv4 only", async () => {
    const r = await env.berth(['create', '--network', 'slirp4netns', '-p', '[::1]:8080:80', 'busybox']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: --network slirp4netns publishes ports on IPv4 host addresses only, not ::1$/m);
  });

  it('a slirp4netns that fails says why in one line, and the failed start leaves nothing', async () => {
    const r = await env.berth(['run', '--rm', '--network', 'slirp4netns:outbound_addr=nosuch0', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'Error: slirp4netns failed (exit 1): outbound-addr has to be valid ipv4 address or interface name.\n');
    assert.deepEqual(forwardersOf(env.runRoot), []);
    assert.deepEqual(leftovers(env.runRoot), []);
  });

  it('ends with the container monitor: a kill -9 of conmon takes slirp4netns with it', async () => {
    await env.ok(['run', '-d', '--name', 'orphan', '--network', 'slirp4netns', 'busybox', 'sleep', '300']);
    assert.equal(forwardersOf(env.runRoot).length, 1);
    const conmon = (await inspectContainer(env, 'orphan')).State.ConmonPid as number;
    process.kill(conmon, 'SIGKILL');
    await waitFor('slirp4netns to end with conmon', () => (forwardersOf(env.runRoot).length === 0 ? true : undefined));
    await env.ok(['rm', '-f', '-t', '0', 'orphan']);
    assert.deepEqual(leftovers(env.runRoot), []);
  });
});
