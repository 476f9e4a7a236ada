import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildContext, containerEnv, type ContainerEnv } from '../testing/containers.js';
import { freeSubnet } from '../testing/free-subnet.js';
import { readdirSync } from 'node:fs';

/** `network create`'s options and run's address flags, seen from inside the container and in podman's output. */
describe("networks: create options, run's address flags, ls/inspect/prune", { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  const tag = `o${process.pid}`;
  before(async () => (env = await containerEnv()));
  after(async () => {
    await env?.berth(['rm', '-af', '-t', '0']);
    await env?.berth(['network', 'prune', '-f']);
    env?.cleanup();
  });

  it('--subnet, --gateway, --ip-range, -o mtu, --ip and --mac-address reach the container', async () => {
    const subnet = await freeSubnet();
    const base = subnet.split('.').slice(0, 3).join('.');
    const net = `${tag}-addr`;
    await env.ok([
      'network',
      'create',
      '--subnet',
      subnet,
      '--gateway',
      `${base}.254`,
      '--ip-range',
      `${base}.128/25`,
      '-o',
      'mtu=1400',
      '--label',
      'team=a',
      net,
    ]);
    const inspected = JSON.parse((await env.ok(['network', 'inspect', net])).stdout)[0];
    assert.deepEqual(inspected.subnets, [{ subnet, gateway: `${base}.254`, lease_range: { start_ip: `${base}.129`, end_ip: `${base}.255` } }]);
    assert.deepEqual(
      { labels: inspected.labels, options: inspected.options, driver: inspected.driver, dns: inspected.dns_enabled },
      { labels: { team: 'a' }, options: { mtu: '1400' }, driver: 'bridge', dns: true },
    );

    const leased = await env.ok([
      'run',
      '--rm',
      '--network',
      net,
      'busybox',
      'sh',
      '-c',
      'ip -4 -o addr show eth0; cat /sys/class/net/eth0/mtu; ip route | grep default',
    ]);
    assert.match(leased.stdout, new RegExp(`inet ${base.replace(/\./g, '\\.')}\\.129/24`));
    assert.match(leased.stdout, /^1400$/m);
    assert.match(leased.stdout, new RegExp(`default via ${base.replace(/\./g, '\\.')}\\.254`));

    const fixed = await env.ok([
      'run',
      '--rm',
      '--network',
      net,
      '--ip',
      `${base}.7`,
      '--mac-address',
      '02:42:ac:11:00:07',
      'busybox',
      'sh',
      '-c',
      'ip -4 -o addr show eth0; cat /sys/class/net/eth0/address',
    ]);
    assert.match(fixed.stdout, new RegExp(`inet ${base.replace(/\./g, '\\.')}\\.7/24`));
    assert.match(fixed.stdout, /^02:42:ac:11:00:07$/m);

    const outside = await env.berth(['run', '--rm', '--network', net, '--ip', '10.255.255.7', 'busybox', 'true']);
    assert.equal(outside.code, 125);
    assert.match(outside.stderr, /^Error: requested static ip 10\.255\.255\.7 not in any subnet on network /);
  });

  it('--internal has no way out; --disable-dns has no name server of its own; --ipv6 gives an IPv6 address', async () => {
    const internal = `${tag}-internal`;
    await env.ok(['network', 'create', '--internal', internal]);
    const r = await env.ok(['run', '--rm', '--network', internal, 'busybox', 'sh', '-c', 'ip route | grep -c default || true']);
    assert.equal(r.stdout.trim(), '0');

    const quiet = `${tag}-nodns`;
    await env.ok(['network', 'create', '--disable-dns', quiet]);
    const gateway = JSON.parse((await env.ok(['network', 'inspect', quiet])).stdout)[0].subnets[0].gateway as string;
    const resolv = (await env.ok(['run', '--rm', '--network', quiet, 'busybox', 'cat', '/etc/resolv.conf'])).stdout;
    assert.ok(!resolv.includes(`nameserver ${gateway}`), resolv);
    assert.ok(!resolv.includes('dns.podman'), resolv);

    const v6 = `${tag}-v6`;
    await env.ok(['network', 'create', '--ipv6', v6]);
    const subnets = JSON.parse((await env.ok(['network', 'inspect', v6])).stdout)[0].subnets as { subnet: string }[];
    assert.equal(subnets.length, 2);
    assert.ok(
      subnets.some((s) => s.subnet.startsWith('fd')),
      JSON.stringify(subnets),
    );
    const addr = await env.ok(['run', '--rm', '--network', v6, 'busybox', 'ip', '-6', '-o', 'addr', 'show', 'eth0', 'scope', 'global']);
    assert.match(addr.stdout, /inet6 fd[0-9a-f:]+\/64/);
  });

  it('ls (table, -q, --filter, --format json), exists, prune; the default network is listed and kept', async () => {
    const labelled = `${tag}-lbl`;
    await env.ok(['network', 'create', '--label', 'purpose=ls', labelled]);
    const table = (await env.ok(['network', 'ls'])).stdout.split('\n');
    assert.match(table[0]!, /^NETWORK ID\s+NAME\s+DRIVER$/);
    assert.ok(
      table.some((l) => /^[0-9a-f]{12}\s+podman\s+bridge$/.test(l)),
      table.join('\n'),
    );
    assert.equal((await env.ok(['network', 'ls', '-q', '--filter', 'label=purpose=ls'])).stdout, `${labelled}\n`);
    const json = JSON.parse((await env.ok(['network', 'ls', '--format', 'json', '--filter', `name=^${labelled}$`])).stdout);
    assert.equal(json.length, 1);
    assert.equal(json[0].name, labelled);
    assert.equal(
      (await env.ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.DNSEnabled}}', '--filter', `name=^${labelled}$`])).stdout,
      `${labelled} bridge true\n`,
    );
    assert.equal((await env.berth(['network', 'exists', labelled])).code, 0);

    const used = `${tag}-used`;
    await env.ok(['network', 'create', used]);
    await env.ok(['create', '--name', `${tag}-holder`, '--network', used, 'busybox', 'true']);
    const pruned = (await env.ok(['network', 'prune', '-f'])).stdout.trim().split('\n');
    assert.ok(pruned.includes(labelled), pruned.join(','));
    assert.ok(!pruned.includes(used) && !pruned.includes('podman'));
    assert.equal((await env.berth(['network', 'exists', labelled])).code, 1);
    assert.equal((await env.berth(['network', 'exists', used])).code, 0);
    const gone = await env.berth(['network', 'rm', `${tag}-nope`]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /network not found/);
    const dflt = await env.berth(['network', 'rm', 'podman']);
    assert.equal(dflt.code, 125);
    assert.match(dflt.stderr, /^Error: default network podman cannot be removed$/m);
  });

  it('containers started at once on a network nobody uses yet all come up (netavark calls are serialised)', async () => {
    const n = `${tag}-rush`;
    await env.ok(['network', 'create', n]);
    const ids = await Promise.all([1, 2, 3, 4].map(async () => (await env.ok(['run', '-d', '--network', n, 'busybox', 'sleep', '600'])).stdout.trim()));
    const ips = await Promise.all(
      ids.map(async (id) => (await env.ok(['inspect', '--format', `{{(index .NetworkSettings.Networks "${n}").IPAddress}}`, id])).stdout.trim()),
    );
    assert.equal(new Set(ips).size, 4, ips.join(' '));
    await env.ok(['rm', '-f', '-t', '0', ...ids]);
    await env.ok(['network', 'rm', n]);
  });

  it('build: RUN gets the default network unless --network or RUN --network= says otherwise', async () => {
    const ctx = buildContext(env, 'netbuild', {
      Containerfile: [
        'FROM busybox',
        // A route out and a name server: what apt-get in a Containerfile needs.
        'RUN ip route | grep -c "^default" > /routes; grep -c "^nameserver" /etc/resolv.conf > /servers',
        'RUN --network=none ls /sys/class/net > /none',
        'RUN --network=host ls /sys/class/net > /host',
      ].join('\n'),
    });
    await env.ok(['build', '-q', '-t', `${tag}-nb`, ctx]);
    const out = (await env.ok(['run', '--rm', '--network', 'none', `${tag}-nb`, 'sh', '-c', 'cat /routes /none; grep -cx eth0 /host'])).stdout
      .trim()
      .split('\n');
    assert.deepEqual(out.slice(0, 2), ['1', 'lo']);
    assert.equal(out[2], String(readdirSync('/sys/class/net').includes('eth0') ? 1 : 0));
    await env.ok(['build', '-q', '--network', 'none', '-t', `${tag}-nb2`, ctx]);
    const none = (await env.ok(['run', '--rm', '--network', 'none', `${tag}-nb2`, 'cat', '/routes'])).stdout.trim();
    assert.equal(none, '0');
  });

  it('network events are logged', async () => {
    const n = `${tag}-ev`;
    await env.ok(['network', 'create', n]);
    await env.ok(['network', 'rm', n]);
    const events = (await env.ok(['events', '--stream=false', '--filter', 'type=network', '--format', '{{.Status}} {{.Name}}'])).stdout;
    assert.ok(events.includes(`create ${n}\n`) && events.includes(`remove ${n}\n`), events);
  });
});
