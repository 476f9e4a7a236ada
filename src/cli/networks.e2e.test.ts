import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv, inspectContainer as inspect } from '../testing/containers.js';
import { freePort } from '../testing/registry.js';
import { run } from '../testing/cli.js';

/**
 * Bridge networks through the real netavark and aardvark-dns: names, ports, isolation, and that
 * nothing is left on the host afterwards. Every network here has a name of its own and a subnet
 * berth picked from the free ones; every port is one the kernel just gave out.
 */

const tag = `t${process.pid}`;

/** What of a container is left on the host: its veth, netns mount, firewall rules (netavark names the container ID in a comment) and leases. */
function leftovers(env: ContainerEnv, id: string): string[] {
  const found: string[] = [];
  const rules = spawnSync('sh', ['-c', 'iptables-save; ip6tables-save'], { encoding: 'utf8', timeout: 30_000 }).stdout;
  if (rules.includes(id)) found.push('iptables rule');
  if (readFileSync('/proc/self/mountinfo', 'utf8').includes(`berth-${id.slice(0, 32)}`)) found.push('netns mount');
  const netnsDir = join(env.runRoot, 'netns');
  if (existsSync(netnsDir) && readdirSync(netnsDir).some((f) => f.includes(id.slice(0, 32)))) found.push('netns file');
  const ipam = join(env.runRoot, 'networks', 'ipam');
  if (existsSync(ipam)) {
    for (const f of readdirSync(ipam).filter((n) => n.endsWith('.json'))) if (readFileSync(join(ipam, f), 'utf8').includes(id)) found.push(`lease in ${f}`);
  }
  const aardvark = join(env.runRoot, 'networks', 'aardvark-dns');
  if (existsSync(aardvark)) {
    for (const f of readdirSync(aardvark))
      if (!f.endsWith('.pid') && !f.endsWith('.lock') && readFileSync(join(aardvark, f), 'utf8').includes(id)) found.push(`dns entry in ${f}`);
  }
  return found;
}

/** The veths attached to a bridge (none once its containers are gone; the bridge itself goes with the last). */
function bridgePorts(bridge: string): string[] {
  const out = spawnSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8', timeout: 30_000 });
  return out.status === 0 ? out.stdout.trim().split('\n').filter(Boolean) : [];
}

function hostAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('no host address');
}

describe('networks: bridge networks through netavark', { timeout: 600_000 }, () => {
  let env: ContainerEnv;
  const nets = { a: `${tag}-a`, b: `${tag}-b` };
  before(async () => {
    env = await containerEnv();
    // isolate=true: netavark 1.4 lets one network reach another by address otherwise.
    await env.ok(['network', 'create', '-o', 'isolate=true', nets.a]);
    await env.ok(['network', 'create', '-o', 'isolate=true', nets.b]);
  });
  after(async () => {
    await env?.berth(['rm', '-af', '-t', '0']);
    for (const n of Object.values(nets)) await env?.berth(['network', 'rm', '-f', n]);
    env?.cleanup();
  });

  it('containers on a network find each other by name and alias; another network cannot; connect and disconnect change that', async () => {
    const web = `${tag}-web`;
    const other = `${tag}-other`;
    await env.ok([
      'run',
      '-d',
      '--name',
      web,
      '--network',
      nets.a,
      '--network-alias',
      'www',
      'busybox',
      'sh',
      '-c',
      'mkdir /w && echo hello-from-web > /w/index.html && exec httpd -f -p 80 -h /w',
    ]);
    const probe = await env.ok([
      'run',
      '--rm',
      '--network',
      nets.a,
      '--cap-add',
      'NET_RAW',
      'busybox',
      'sh',
      '-c',
      `ping -c1 -W3 ${web} >/dev/null && echo ping-ok; nslookup www | grep -c Address; wget -qO- http://${web}/; wget -qO- http://www/`,
    ]);
    assert.deepEqual(probe.stdout.trim().split('\n'), ['ping-ok', '2', 'hello-from-web', 'hello-from-web']);
    const ip = (await inspect(env, web))['NetworkSettings']['Networks'][nets.a]['IPAddress'] as string;
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);

    await env.ok(['run', '-d', '--name', other, '--network', nets.b, 'busybox', 'sleep', '600']);
    const cannot = await env.berth([
      'exec',
      other,
      'sh',
      '-c',
      `nslookup ${web} >/dev/null 2>&1 && echo resolved; timeout 5 wget -qO- http://${ip}/ || echo unreachable`,
    ]);
    assert.equal(cannot.stdout.trim(), 'unreachable');

    await env.ok(['network', 'connect', '--alias', 'joined', nets.a, other]);
    // aardvark-dns answers a query by the networks of the address it came from (as with podman 4):
    // names of the joined network resolve through that network's server.
    const dnsA = JSON.parse((await env.ok(['network', 'inspect', nets.a])).stdout)[0].subnets[0].gateway as string;
    const can = await env.ok([
      'exec',
      other,
      'sh',
      '-c',
      `timeout 5 wget -qO- http://${ip}/; nslookup ${web} ${dnsA} | grep -c "Address: ${ip}"; ip -o -4 addr show eth1 | wc -l`,
    ]);
    assert.deepEqual(can.stdout.trim().split('\n'), ['hello-from-web', '1', '1']);
    const seen = await env.ok(['exec', web, 'nslookup', 'joined']);
    assert.match(seen.stdout, /Address: \d+\.\d+\.\d+\.\d+/);

    await env.ok(['network', 'disconnect', nets.a, other]);
    // Gone: the interface, and the joined network's name server from resolv.conf (its own network's does not know the name).
    const again = await env.berth([
      'exec',
      other,
      'sh',
      '-c',
      `ip link show eth1 >/dev/null 2>&1 || echo no-eth1; grep -q "nameserver ${dnsA}$" /etc/resolv.conf || nslookup ${web} >/dev/null 2>&1 || echo not-resolved`,
    ]);
    assert.deepEqual(again.stdout.trim().split('\n'), ['no-eth1', 'not-resolved']);
    await env.ok(['rm', '-f', '-t', '0', web, other]);
  });

  it("-p publishes TCP on 127.0.0.1 and on the host's address, and UDP; -P publishes EXPOSE; port prints podman's lines", async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const name = `${tag}-ports`;
    await env.ok([
      'run',
      '-d',
      '--name',
      name,
      '-p',
      `127.0.0.1:${p1}:80`,
      '-p',
      `${p2}:80`,
      '-p',
      `${p3}:9999/udp`,
      'busybox',
      'sh',
      '-c',
      'mkdir /w && echo served > /w/index.html && exec httpd -f -p 80 -h /w',
    ]);
    assert.equal((await run('curl', ['-sS', '-m', '10', `http://127.0.0.1:${p1}/`])).stdout, 'served\n');
    assert.equal((await run('curl', ['-sS', '-m', '10', `http://${hostAddress()}:${p2}/`])).stdout, 'served\n');

    // busybox has no UDP server: one runs in the container's network namespace, from the host.
    const sandbox = (await inspect(env, name))['NetworkSettings']['SandboxKey'] as string;
    const echo = spawn(
      'nsenter',
      [
        `--net=${sandbox}`,
        process.execPath,
        '-e',
        "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo:'+m,r.port,r.address));s.bind(9999,()=>console.log('ready'))",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise((resolve) => echo.stdout!.once('data', resolve));
      const reply = await new Promise<string>((resolve, reject) => {
        const s = createSocket('udp4');
        const timer = setTimeout(() => (s.close(), reject(new Error('no UDP reply'))), 10_000);
        s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m.toString())));
        s.send('ping', p3, hostAddress());
      });
      assert.equal(reply, 'echo:ping');
    } finally {
      echo.kill('SIGKILL');
    }

    const lines = (await env.ok(['port', name])).stdout.trim().split('\n').sort();
    assert.deepEqual(lines, [`80/tcp -> 0.0.0.0:${p2}`, `80/tcp -> 127.0.0.1:${p1}`, `9999/udp -> 0.0.0.0:${p3}`].sort());
    assert.equal((await env.ok(['port', name, '9999/udp'])).stdout, `0.0.0.0:${p3}\n`);
    const ps = (await env.ok(['ps', '--filter', `name=${name}`, '--format', '{{.Ports}}'])).stdout;
    assert.match(ps, new RegExp(`127\\.0\\.0\\.1:${p1}->80/tcp`));
    // Held while the container runs, as podman's conmon holds them: no other program can take them.
    const holders = (await run('ss', ['-Hltunp'])).stdout.split('\n');
    for (const port of [`127.0.0.1:${p1}`, `0.0.0.0:${p2}`, `0.0.0.0:${p3}`]) {
      assert.ok(
        holders.some((l) => l.includes(` ${port} `) && l.includes('"conmon"')),
        `${port} not held by conmon:\n${holders.join('\n')}`,
      );
    }

    const all = `${tag}-all`;
    await env.ok([
      'run',
      '-d',
      '--name',
      all,
      '--expose',
      '8080',
      '-P',
      'busybox',
      'sh',
      '-c',
      'mkdir /w && echo exposed > /w/index.html && exec httpd -f -p 8080 -h /w',
    ]);
    const published = (await env.ok(['port', all, '8080'])).stdout.trim();
    const port = /:(\d+)$/.exec(published)?.[1];
    assert.ok(port, published);
    assert.equal((await run('curl', ['-sS', '-m', '10', `http://127.0.0.1:${port}/`])).stdout, 'exposed\n');
    await env.ok(['rm', '-f', '-t', '0', name, all]);
  });

  it("--network none has only lo; container: shares the other's namespace; host sees the host's interfaces", async () => {
    const none = await env.ok(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
    assert.deepEqual(none.stdout.trim().split(/\s+/), ['lo']);
    const owner = `${tag}-owner`;
    await env.ok(['run', '-d', '--name', owner, '--network', nets.a, 'busybox', 'sleep', '600']);
    const theirs = (await env.ok(['exec', owner, 'readlink', '/proc/self/ns/net'])).stdout;
    const mine = await env.ok(['run', '--rm', '--network', `container:${owner}`, 'busybox', 'readlink', '/proc/self/ns/net']);
    assert.equal(mine.stdout, theirs);
    const host = await env.ok(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
    for (const iface of Object.keys(networkInterfaces())) assert.ok(host.stdout.split(/\s+/).includes(iface), `${iface} in ${host.stdout}`);
    await env.ok(['rm', '-f', '-t', '0', owner]);
  });

  it('nothing is left after rm -f, after kill -9 of the monitor, and after network rm -f', async () => {
    await env.ok(['rm', '-af', '-t', '0']);
    const bridge = JSON.parse((await env.ok(['network', 'inspect', nets.b])).stdout)[0].network_interface as string;
    const port = await freePort();
    const one = (await env.ok(['run', '-d', '-p', `127.0.0.1:${port}:80`, '--network', nets.b, 'busybox', 'sleep', '600'])).stdout.trim();
    assert.ok(leftovers(env, one).includes('iptables rule'), 'a running container has its rules');
    await env.ok(['rm', '-f', '-t', '0', one]);
    assert.deepEqual(leftovers(env, one), []);

    const two = (await env.ok(['run', '-d', '-p', `127.0.0.1:${port}:80`, '--network', nets.b, 'busybox', 'sleep', '600'])).stdout.trim();
    const conmon = Number((await env.ok(['inspect', '--format', '{{.State.ConmonPid}}', two])).stdout.trim());
    process.kill(conmon, 'SIGKILL');
    await env.ok(['rm', '-f', '-t', '0', two]);
    assert.deepEqual(leftovers(env, two), []);

    // A crash: the container's own process killed; conmon's cleanup tears the network down.
    const crashed = (await env.ok(['run', '-d', '-p', `127.0.0.1:${port}:80`, '--network', nets.b, 'busybox', 'sleep', '600'])).stdout.trim();
    const pid = Number((await env.ok(['inspect', '--format', '{{.State.Pid}}', crashed])).stdout.trim());
    process.kill(pid, 'SIGKILL');
    await env.ok(['wait', crashed]);
    for (let i = 0; i < 100 && leftovers(env, crashed).length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(leftovers(env, crashed), []);
    await env.ok(['rm', crashed]);

    const doomed = `${tag}-doomed`;
    await env.ok(['network', 'create', doomed]);
    const three = (await env.ok(['run', '-d', '--network', doomed, 'busybox', 'sleep', '600'])).stdout.trim();
    const doomedBridge = JSON.parse((await env.ok(['network', 'inspect', doomed])).stdout)[0].network_interface as string;
    assert.equal(bridgePorts(doomedBridge).length, 1);
    const refused = await env.berth(['network', 'rm', doomed]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /has associated containers/);
    await env.ok(['network', 'rm', '-f', doomed]);
    assert.equal((await env.berth(['container', 'exists', three])).code, 1);
    assert.deepEqual(leftovers(env, three), []);
    assert.deepEqual(bridgePorts(doomedBridge), []);
    assert.deepEqual(bridgePorts(bridge), []);
  });

  it('network reload puts back a rule the firewall lost', async () => {
    const port = await freePort();
    const id = (
      await env.ok(['run', '-d', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'mkdir /w && echo back > /w/index.html && exec httpd -f -p 80 -h /w'])
    ).stdout.trim();
    assert.equal((await run('curl', ['-sS', '-m', '10', `http://127.0.0.1:${port}/`])).stdout, 'back\n');
    // Only this container's DNAT rules go, as a flush would take them: other engines' rules stay.
    const rules = spawnSync('iptables', ['-t', 'nat', '-S', 'NETAVARK-HOSTPORT-DNAT'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes(id));
    assert.ok(rules.length > 0);
    for (const rule of rules) spawnSync('sh', ['-c', `iptables -t nat ${rule.replace(/^-A /, '-D ')}`]);
    assert.notEqual((await run('curl', ['-sS', '-m', '3', `http://127.0.0.1:${port}/`])).stdout, 'back\n');
    assert.equal((await env.ok(['network', 'reload', id])).stdout.trim(), id);
    assert.equal((await run('curl', ['-sS', '-m', '10', `http://127.0.0.1:${port}/`])).stdout, 'back\n');
    await env.ok(['rm', '-f', '-t', '0', id]);
    assert.deepEqual(leftovers(env, id), []);
  });

  it('bad input: one line, exit 125 (126 for a port taken), nothing made', async () => {
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
    const taken = (listener.address() as AddressInfo).port;
    try {
      const before = (await env.ok(['ps', '-aq'])).stdout;
      const subnet = JSON.parse((await env.ok(['network', 'inspect', nets.a])).stdout)[0].subnets[0].subnet as string;
      const cases: [string[], RegExp][] = [
        [['network', 'create', '--subnet', subnet, `${tag}-overlap`], /subnet .* is already used on the host or by another config/],
        [['network', 'create', nets.a], /already used: network already exists/],
        [['run', '--rm', '-p', '80:80:80:80', 'busybox', 'true'], /^Error: /],
        [['run', '--rm', '-p', '99999:80', 'busybox', 'true'], /^Error: /],
        [['run', '--rm', '--network', `${tag}-nope`, 'busybox', 'true'], /unable to find network with name or ID .*: network not found/],
      ];
      for (const [args, message] of cases) {
        const r = await env.berth(args);
        assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, message);
      }
      // A port taken: podman's run exits 126 (its start fails), berth's run likewise.
      const busy = await env.berth(['run', '--rm', '-p', `${taken}:80`, 'busybox', 'true']);
      assert.equal(busy.code, 126, busy.stderr);
      assert.match(busy.stderr, new RegExp(`^Error: cannot listen on the TCP port: listen tcp4 :${taken}: bind: address already in use\n$`));
      assert.equal((await env.ok(['ps', '-aq'])).stdout, before);
      assert.equal((await env.berth(['network', 'exists', `${tag}-overlap`])).code, 1);
    } finally {
      listener.close();
    }
  });

  it('a subnet another bridge took since: the default network moves, a named one is refused in one line', async () => {
    // Another engine's (or another berth store's) bridge, made here with the subnets berth chose.
    const other = `bt${process.pid % 100000}x`;
    const named = `${tag}-taken`;
    await env.ok(['network', 'create', named]);
    await env.ok(['run', '--rm', 'busybox', 'true']);
    const subnetOf = async (n: string) => JSON.parse((await env.ok(['network', 'inspect', n])).stdout)[0].subnets[0] as { subnet: string; gateway: string };
    const dflt = await subnetOf('podman');
    const mine = await subnetOf(named);
    const prefix = (s: { subnet: string }) => s.subnet.split('/')[1];
    spawnSync('ip', ['link', 'add', other, 'type', 'bridge']);
    try {
      for (const s of [dflt, mine]) assert.equal(spawnSync('ip', ['addr', 'add', `${s.gateway}/${prefix(s)}`, 'dev', other]).status, 0);
      // Up (without a port it stays "linkdown", like cni-podman0 here): the kernel routes its subnets.
      assert.equal(spawnSync('ip', ['link', 'set', other, 'up']).status, 0);
      const r = await env.ok(['run', '--rm', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
      const moved = await subnetOf('podman');
      assert.notEqual(moved.subnet, dflt.subnet);
      assert.match(r.stdout, new RegExp(`inet ${moved.gateway.replace(/\.1$/, '').replace(/\./g, '\\.')}\\.`));
      const refused = await env.berth(['run', '--rm', '--network', named, 'busybox', 'true']);
      assert.equal(refused.code, 125);
      assert.match(refused.stderr, new RegExp(`^Error: the subnet of network ${named} is in use on this host by ${other} `));
      assert.equal(refused.stderr.trim().split('\n').length, 1);
    } finally {
      spawnSync('ip', ['link', 'del', other]);
    }
    await env.ok(['rm', '-a', '-f']);
    await env.ok(['network', 'rm', named]);
  });

  it('names resolve where /run/systemd/system exists but systemd does not run', async (t) => {
    if (readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd') return t.skip('systemd runs here');
    const made = !existsSync('/run/systemd/system');
    if (made) mkdirSync('/run/systemd/system', { recursive: true });
    try {
      const net = `${tag}-fake-systemd`;
      await env.ok(['network', 'create', net]);
      await env.ok(['run', '-d', '--name', `${tag}-named`, '--network', net, 'busybox', 'sleep', '600']);
      const r = await env.ok(['run', '--rm', '--network', net, 'busybox', 'nslookup', `${tag}-named`]);
      assert.match(r.stdout, /Address: \d+\.\d+\.\d+\.\d+/);
      assert.match(r.stderr, /systemd is not running: starting aardvark-dns directly/);
      await env.ok(['network', 'rm', '-f', net]);
    } finally {
      if (made) rmdirSync('/run/systemd/system');
    }
  });
});
