import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';
import { freePort } from '../testing/registry.js';
import { run } from '../testing/cli.js';

/**
 * What podman's own networking system tests (test/system/500-networking.bats) expect of podman 4
 * and berth got wrong: --network NAME:OPTIONS, port forwards across connect/disconnect, the
 * `network` verbs' flags, output and events, inspect's Networks without networks, --dns-opt.
 * Every network has a name of its own and a subnet berth picked; every port one the kernel gave.
 */

const tag = `c${process.pid}`;

const curl = async (port: number) => (await run('curl', ['-sS', '-m', '3', `http://127.0.0.1:${port}/`])).stdout;

describe("networks as podman 4's system tests use them", { timeout: 600_000 }, () => {
  let env: ContainerEnv;
  const nets = { a: `${tag}-a`, b: `${tag}-b` };
  before(async () => {
    env = await containerEnv();
    for (const n of Object.values(nets)) await env.ok(['network', 'create', n]);
  });
  after(async () => {
    await env?.berth(['rm', '-af', '-t', '0']);
    for (const n of Object.values(nets)) await env?.berth(['network', 'rm', '-f', n]);
    env?.cleanup();
  });

  const subnetOf = async (net: string) => JSON.parse((await env.ok(['network', 'inspect', net])).stdout)[0].subnets[0].subnet as string;

  it("network ls -n has no heading; network events read as podman's; rm --force passes over a missing network", async () => {
    const ls = (await env.ok(['network', 'ls', '-n'])).stdout;
    assert.doesNotMatch(ls, /NETWORK ID/);
    assert.match(ls, new RegExp(`${nets.a}\\s+bridge`));

    const since = new Date(Date.now() - 1000).toISOString();
    const doomed = `${tag}-doomed`;
    await env.ok(['network', 'create', doomed]);
    const id = (await env.ok(['run', '-d', 'busybox', 'sleep', '600'])).stdout.trim();
    await env.ok(['network', 'connect', nets.a, id]);
    await env.ok(['network', 'disconnect', nets.a, id]);
    const removed = await env.ok(['network', 'rm', '--force', `${tag}-bogus`, doomed]);
    assert.equal(removed.stdout, `${doomed}\n`);
    assert.equal(removed.stderr, '');
    const events = (await env.ok(['events', '--filter', 'type=network', '--since', since, '--stream=false'])).stdout;
    assert.match(events, new RegExp(`network create [0-9a-f]{64} \\(name=${doomed}, type=bridge\\)`));
    assert.match(events, new RegExp(`network remove [0-9a-f]{64} \\(name=${doomed}, type=bridge\\)`));
    assert.match(events, new RegExp(`network connect ${id} \\(container=${id}, name=${nets.a}\\)`));
    assert.match(events, new RegExp(`network disconnect ${id} \\(container=${id}, name=${nets.a}\\)`));
    const fields = (
      await env.ok(['events', '--filter', 'type=network', '--filter', 'event=connect', '--since', since, '--stream=false', '--format', '{{.Network}} {{.ID}}'])
    ).stdout;
    assert.equal(fields, `${nets.a} ${id}\n`);
    await env.ok(['rm', '-f', '-t', '0', id]);
  });

  it("--network NAME:ip=,mac=,alias=,interface_name= (the default network by name too); bad options fail as podman's", async () => {
    const ip = (await subnetOf(nets.a)).replace(/\.0\/24$/, '.77');
    const name = `${tag}-opts`;
    const out = await env.ok([
      'run',
      '--name',
      name,
      '--network',
      `${nets.a}:ip=${ip},mac=02:11:22:33:44:55,alias=front,interface_name=first`,
      '--network',
      'podman:alias=back',
      'busybox',
      'sh',
      '-c',
      'for i in $(ls /sys/class/net); do echo "$i $(cat /sys/class/net/$i/address)"; done; ip -o -4 addr show first',
    ]);
    const lines = out.stdout.trim().split('\n');
    assert.ok(lines.includes('first 02:11:22:33:44:55'), out.stdout);
    assert.ok(
      lines.some((l) => /^eth0 /.test(l)),
      out.stdout,
    );
    assert.match(out.stdout, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`));
    const short = (await env.ok(['inspect', '--format', '{{.Id}}', name])).stdout.slice(0, 12);
    const aliases = (
      await env.ok([
        'inspect',
        '--format',
        `{{(index .NetworkSettings.Networks "${nets.a}").Aliases}} {{(index .NetworkSettings.Networks "podman").Aliases}}`,
        name,
      ])
    ).stdout;
    assert.equal(aliases, `[front ${short}] [back ${short}]\n`);
    await env.ok(['rm', name]);

    const cases: [string, string][] = [
      [`${nets.a}:ip=1.2.3`, `invalid option for network ${nets.a}: invalid ip address "1.2.3"`],
      [`${nets.a}:mac=zz`, `invalid option for network ${nets.a}: address zz: invalid MAC address`],
      [`${nets.a}:foo=bar`, `invalid option for network ${nets.a}: unknown bridge network option: foo`],
      [`${nets.a}:ip=192.0.2.9`, `requested static ip 192.0.2.9 not in any subnet on network ${nets.a}`],
    ];
    for (const [network, message] of cases) {
      const r = await env.berth(['create', '--network', network, 'busybox', 'true']);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr, `Error: ${message}\n`);
    }
  });

  it('published ports follow network disconnect and connect, and move to a second network', async () => {
    const port = await freePort();
    const id = (
      await env.ok([
        'run',
        '-d',
        '-p',
        `127.0.0.1:${port}:80`,
        '--network',
        nets.a,
        'busybox',
        'sh',
        '-c',
        'mkdir /w && echo served > /w/index.html && exec httpd -f -p 80 -h /w',
      ])
    ).stdout.trim();
    await run('curl', ['-sS', '-m', '10', '--retry', '3', '--retry-connrefused', `http://127.0.0.1:${port}/`]);
    assert.equal(await curl(port), 'served\n');
    await env.ok(['network', 'disconnect', nets.a, id]);
    assert.notEqual(await curl(port), 'served\n');
    await env.ok(['network', 'connect', nets.a, id]);
    assert.equal(await curl(port), 'served\n', 'after reconnecting');
    await env.ok(['network', 'connect', nets.b, id]);
    await env.ok(['network', 'disconnect', nets.a, id]);
    assert.equal(await curl(port), 'served\n', 'through the second network alone');
    const rules = (await run('iptables-save', [])).stdout;
    await env.ok(['rm', '-f', '-t', '0', id]);
    assert.ok(rules.includes(id.slice(0, 12)) || rules.includes(id), 'the container had rules');
    assert.ok(!(await run('iptables-save', [])).stdout.includes(id), 'no rule is left');
  });

  it("interfaces come in the order the networks are given; network reload keeps each one's address and MAC", async () => {
    for (const order of [
      [nets.a, nets.b],
      [nets.b, nets.a],
    ]) {
      const links = await env.ok([
        'run',
        '--rm',
        '--network',
        `${order[0]}:interface_name=one`,
        '--network',
        `${order[1]}:interface_name=two`,
        'busybox',
        'sh',
        '-c',
        'ip -o link | cut -d: -f2 | cut -d@ -f1',
      ]);
      assert.deepEqual(
        links.stdout
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean),
        ['lo', 'one', 'two'],
      );
    }
    const id = (await env.ok(['run', '-d', '--network', nets.a, '--network', nets.b, 'busybox', 'sleep', '600'])).stdout.trim();
    const format = '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}} {{$v.MacAddress}};{{end}}';
    const before = (await env.ok(['inspect', '--format', format, id])).stdout;
    assert.match(before, /\d+\.\d+\.\d+\.\d+ [0-9a-f:]{17};.*\d+\.\d+\.\d+\.\d+ [0-9a-f:]{17};/);
    assert.equal((await env.ok(['network', 'reload', id])).stdout, `${id}\n`);
    assert.equal((await env.ok(['inspect', '--format', format, id])).stdout, before);
    const macs = (await env.ok(['exec', id, 'cat', '/sys/class/net/eth0/address', '/sys/class/net/eth1/address'])).stdout.trim().split('\n');
    for (const mac of macs) assert.ok(before.includes(mac), `${mac} in ${before}`);
    await env.ok(['rm', '-f', '-t', '0', id]);
  });

  it("published host ports are held while the container runs (as podman's conmon holds them), and let go when it stops", async () => {
    const [tcp, udp] = [await freePort(), await freePort()];
    const id = (await env.ok(['run', '-d', '-p', `${tcp}:80`, '-p', `127.0.0.1:${udp}:53/udp`, 'busybox', 'sleep', '600'])).stdout.trim();
    const canBind = async () => {
      const t = await new Promise<boolean>((resolve) => {
        const server = createServer().once('error', () => resolve(false));
        server.listen({ port: tcp, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
      });
      const u = await new Promise<boolean>((resolve) => {
        const socket = createSocket('udp4').once('error', () => (socket.close(), resolve(false)));
        socket.bind({ port: udp, address: '127.0.0.1', exclusive: true }, () => socket.close(() => resolve(true)));
      });
      return [t, u];
    };
    assert.deepEqual(await canBind(), [false, false]);
    assert.match((await run('ss', ['-ltnp', `sport = :${tcp}`])).stdout, /conmon/);
    await env.ok(['stop', '-t', '0', id]);
    assert.deepEqual(await canBind(), [true, true]);
    await env.ok(['rm', id]);
  });

  it('inspect: Networks is an empty map for host and none (left out of the JSON); --dns-opt sets resolv.conf options', async () => {
    for (const mode of ['host', 'none']) {
      const id = (await env.ok(['create', '--network', mode, 'busybox', 'true'])).stdout.trim();
      assert.equal((await env.ok(['inspect', '--format', '{{.NetworkSettings.Networks}}', id])).stdout, 'map[]\n');
      assert.ok(!('Networks' in JSON.parse((await env.ok(['inspect', id])).stdout)[0].NetworkSettings));
      await env.ok(['rm', id]);
    }
    const resolv = (await env.ok(['run', '--rm', '--dns-opt', 'ndots:3', '--network', nets.b, 'busybox', 'cat', '/etc/resolv.conf'])).stdout;
    assert.match(resolv, /^options ndots:3$/m);
  });
});
