import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isBerthError } from '../util/errors.js';
import { allocate, leases, release, releaseAll, removeNetworkLeases, usesHostLocalIpam } from './ipam.js';
import type { Network, Subnet } from './types.js';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function ipamDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-ipam-'));
  roots.push(root);
  return join(root, 'networks', 'ipam');
}

let seq = 0;
function network(subnets: Subnet[], extra: Partial<Network> = {}): Network {
  const id = (++seq).toString(16).padStart(64, 'a');
  return {
    name: `net${seq}`,
    id,
    driver: 'bridge',
    network_interface: `podman${seq}`,
    created: '2026-12-03T09:22:24.264263079Z',
    subnets,
    ipv6_enabled: subnets.some((s) => s.subnet.includes(':')),
    internal: false,
    dns_enabled: true,
    ipam_options: { driver: 'host-local' },
    ...extra,
  };
}

const ipamError = (message: string) => (e: unknown) => isBerthError(e, 'USAGE') && e.message === message;

describe('IPAM', { timeout: 60_000 }, () => {
  test('hands out the hosts in order from .2, skipping the gateway, one per subnet (IPv4 and IPv6)', async () => {
    const dir = ipamDir();
    const net = network([
      { subnet: '10.89.0.0/24', gateway: '10.89.0.1' },
      { subnet: 'fd8e:d106:c475:d38b::/64', gateway: 'fd8e:d106:c475:d38b::1' },
    ]);
    assert.deepEqual(await allocate(dir, net, 'c1'), ['10.89.0.2', 'fd8e:d106:c475:d38b::2']);
    assert.deepEqual(await allocate(dir, net, 'c2'), ['10.89.0.3', 'fd8e:d106:c475:d38b::3']);
    assert.deepEqual(await leases(dir, net.id), { c1: ['10.89.0.2', 'fd8e:d106:c475:d38b::2'], c2: ['10.89.0.3', 'fd8e:d106:c475:d38b::3'] });
    assert.ok(existsSync(join(dir, `${net.id}.json`)));
  });

  test('allocating again for the same container gives its leases back', async () => {
    const dir = ipamDir();
    const net = network([{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }]);
    const first = await allocate(dir, net, 'c1');
    assert.deepEqual(await allocate(dir, net, 'c1'), first);
    assert.deepEqual(await allocate(dir, net, 'c2'), ['10.89.0.3']);
  });

  test('release is idempotent, and a released address is reused only after wrapping around', async () => {
    const dir = ipamDir();
    const net = network([{ subnet: '10.89.0.0/29', gateway: '10.89.0.1' }]); // hosts .2 to .6
    for (const c of ['a', 'b', 'c']) await allocate(dir, net, c); // .2 .3 .4
    assert.deepEqual(await release(dir, net.id, 'a'), ['10.89.0.2']);
    assert.deepEqual(await release(dir, net.id, 'a'), []);
    assert.deepEqual(await release(dir, 'f'.repeat(64), 'a'), []); // a network with no file at all
    assert.deepEqual(await allocate(dir, net, 'd'), ['10.89.0.5']);
    assert.deepEqual(await allocate(dir, net, 'e'), ['10.89.0.6']);
    assert.deepEqual(await allocate(dir, net, 'f'), ['10.89.0.2']); // wrapped past the broadcast, the network address and the gateway
    await assert.rejects(allocate(dir, net, 'g'), ipamError('IPAM error: failed to find free IP in range: 10.89.0.1 - 10.89.0.6'));
  });

  test('a /30 holds two containers: then a clear error, and nothing is recorded for the third', async () => {
    const dir = ipamDir();
    const net = network([{ subnet: '10.89.7.0/30' }]); // no gateway: hosts .1 and .2, .3 is broadcast
    assert.deepEqual(await allocate(dir, net, 'a'), ['10.89.7.1']);
    assert.deepEqual(await allocate(dir, net, 'b'), ['10.89.7.2']);
    await assert.rejects(allocate(dir, net, 'c'), ipamError('IPAM error: failed to find free IP in range: 10.89.7.1 - 10.89.7.2'));
    assert.deepEqual(Object.keys(await leases(dir, net.id)), ['a', 'b']);
    const withGateway = network([{ subnet: '10.89.8.0/30', gateway: '10.89.8.1' }]);
    assert.deepEqual(await allocate(dir, withGateway, 'a'), ['10.89.8.2']);
    await assert.rejects(allocate(dir, withGateway, 'b'), { code: 'USAGE' });
  });

  test('a dual-stack allocation whose IPv6 half fails keeps no IPv4 lease either', async () => {
    const dir = ipamDir();
    const net = network([
      { subnet: '10.89.0.0/24', gateway: '10.89.0.1' },
      { subnet: 'fd00::/127', gateway: 'fd00::1' },
    ]);
    await assert.rejects(allocate(dir, net, 'a'), ipamError('IPAM error: failed to find free IP in range: fd00::1 - fd00::1'));
    assert.deepEqual(await leases(dir, net.id), {});
  });

  test('the lease range bounds what is handed out, and its broadcast end is still skipped', async () => {
    const dir = ipamDir();
    const net = network([{ subnet: '10.199.1.0/24', gateway: '10.199.1.1', lease_range: { start_ip: '10.199.1.252', end_ip: '10.199.1.255' } }]);
    assert.deepEqual(await allocate(dir, net, 'a'), ['10.199.1.252']);
    assert.deepEqual(await allocate(dir, net, 'b'), ['10.199.1.253']);
    assert.deepEqual(await allocate(dir, net, 'c'), ['10.199.1.254']);
    await assert.rejects(allocate(dir, net, 'd'), ipamError('IPAM error: failed to find free IP in range: 10.199.1.252 - 10.199.1.254'));
    await release(dir, net.id, 'b');
    assert.deepEqual(await allocate(dir, net, 'd'), ['10.199.1.253']);
    const v6 = network([{ subnet: 'fd77::/64', gateway: 'fd77::1', lease_range: { start_ip: 'fd77::8000:1', end_ip: 'fd77::ffff:ffff' } }]);
    assert.deepEqual(await allocate(dir, v6, 'a'), ['fd77::8000:1']);
    const tail = network([{ subnet: 'fd78::/120', gateway: 'fd78::1', lease_range: { start_ip: 'fd78::fe' } }]);
    assert.deepEqual(await allocate(dir, tail, 'a'), ['fd78::fe']);
    assert.deepEqual(await allocate(dir, tail, 'b'), ['fd78::ff']); // an IPv6 subnet's last address is a host
  });

  test("requested (static) addresses: inside a subnet and free, else podman's words", async () => {
    const dir = ipamDir();
    const net = network([
      { subnet: '10.89.0.0/24', gateway: '10.89.0.1' },
      { subnet: 'fd00:5::/64', gateway: 'fd00:5::1' },
    ]);
    assert.deepEqual(await allocate(dir, net, 'a', ['10.89.0.5']), ['10.89.0.5', 'fd00:5::2']);
    assert.deepEqual(await allocate(dir, net, 'b', ['FD00:5:0::9', '10.89.0.6']), ['10.89.0.6', 'fd00:5::9']);
    await assert.rejects(
      allocate(dir, net, 'c', ['10.89.0.5']),
      ipamError('IPAM error: requested ip address 10.89.0.5 is already allocated to container ID a'),
    );
    await assert.rejects(
      allocate(dir, net, 'c', ['fd00:5::9']),
      ipamError('IPAM error: requested ip address fd00:5::9 is already allocated to container ID b'),
    );
    await assert.rejects(allocate(dir, net, 'c', ['10.90.0.5']), ipamError(`requested static ip 10.90.0.5 not in any subnet on network ${net.name}`));
    await assert.rejects(allocate(dir, net, 'c', ['10.89.0.1']), ipamError('IPAM error: requested ip address 10.89.0.1 is the gateway of subnet 10.89.0.0/24'));
    await assert.rejects(
      allocate(dir, net, 'c', ['10.89.0.255']),
      ipamError('IPAM error: requested ip address 10.89.0.255 is not a host address of subnet 10.89.0.0/24'),
    );
    await assert.rejects(allocate(dir, net, 'c', ['10.89.0.0']), { code: 'USAGE' });
    await assert.rejects(allocate(dir, net, 'c', ['10.89.0.7', '10.89.0.8']), { code: 'USAGE' });
    await assert.rejects(allocate(dir, net, 'c', ['not-an-ip']), ipamError('invalid IP address: not-an-ip'));
    // The dynamic search goes on after the last address it handed out, not after the static ones: .2 is free.
    assert.deepEqual(await allocate(dir, net, 'c'), ['10.89.0.2', 'fd00:5::3']);
    assert.deepEqual(await allocate(dir, net, 'd'), ['10.89.0.3', 'fd00:5::4']);
    assert.deepEqual(Object.keys(await leases(dir, net.id)).sort(), ['a', 'b', 'c', 'd']);
  });

  test('50 parallel allocations hand out 50 different addresses', async () => {
    const dir = ipamDir();
    const net = network([
      { subnet: '10.89.0.0/24', gateway: '10.89.0.1' },
      { subnet: 'fd00:6::/64', gateway: 'fd00:6::1' },
    ]);
    const got = await Promise.all(Array.from({ length: 50 }, (_, i) => allocate(dir, net, `c${i}`)));
    const v4 = got.map((ips) => ips[0]!);
    assert.equal(new Set(v4).size, 50);
    assert.equal(new Set(got.map((ips) => ips[1]!)).size, 50);
    assert.ok(!v4.includes('10.89.0.1'));
    const held = await leases(dir, net.id);
    assert.equal(Object.keys(held).length, 50);
    for (let i = 0; i < 50; i++) assert.deepEqual(held[`c${i}`], got[i]);
    // Parallel releases and allocations together leave exactly what was not released.
    await Promise.all([
      ...Array.from({ length: 25 }, (_, i) => release(dir, net.id, `c${i}`)),
      ...Array.from({ length: 25 }, (_, i) => allocate(dir, net, `n${i}`)),
    ]);
    const after = await leases(dir, net.id);
    assert.equal(Object.keys(after).length, 50);
    assert.equal(new Set(Object.values(after).map((ips) => ips[0])).size, 50);
  });

  test('separate processes allocating at once never share an address', { timeout: 60_000 }, async () => {
    const dir = ipamDir();
    const net = network([{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }]);
    const module = fileURLToPath(new URL('./ipam.js', import.meta.url));
    const script = `
      const { allocate } = await import(${JSON.stringify(module)});
      const [dir, net, who] = process.argv.slice(1);
      const out = await Promise.all(Array.from({ length: 10 }, (_, i) => allocate(dir, JSON.parse(net), who + '-' + i)));
      process.stdout.write(JSON.stringify(out.map((ips) => ips[0])));`;
    const runs = await Promise.all(
      ['p0', 'p1', 'p2', 'p3'].map(
        (who) =>
          new Promise<string[]>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, JSON.stringify(net), who], { stdio: ['ignore', 'pipe', 'pipe'] });
            let out = '';
            let err = '';
            child.stdout.on('data', (d) => (out += d));
            child.stderr.on('data', (d) => (err += d));
            child.on('error', reject);
            child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`child ${who} exited ${code}: ${err}`))));
          }),
      ),
    );
    const all = runs.flat();
    assert.equal(all.length, 40);
    assert.equal(new Set(all).size, 40);
    assert.equal(Object.keys(await leases(dir, net.id)).length, 40);
    // Nothing of the lock is left behind.
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('lock')),
      [],
    );
  });

  test('releaseAll frees a container on every network; removing a network drops its file', async () => {
    const dir = ipamDir();
    const n1 = network([{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }]);
    const n2 = network([{ subnet: '10.89.1.0/24', gateway: '10.89.1.1' }]);
    await allocate(dir, n1, 'x');
    await allocate(dir, n1, 'y');
    await allocate(dir, n2, 'x');
    assert.deepEqual((await releaseAll(dir, 'x')).sort(), [n1.id, n2.id].sort());
    assert.deepEqual(await releaseAll(dir, 'x'), []);
    assert.deepEqual(await leases(dir, n1.id), { y: ['10.89.0.3'] });
    assert.deepEqual(await leases(dir, n2.id), {});
    await removeNetworkLeases(dir, n1.id);
    await removeNetworkLeases(dir, n1.id);
    assert.ok(!existsSync(join(dir, `${n1.id}.json`)));
    assert.deepEqual(await leases(dir, n1.id), {});
    assert.deepEqual(await releaseAll(ipamDir(), 'x'), []); // a directory never made
  });

  test('the leases file is plain JSON, rewritten whole', async () => {
    const dir = ipamDir();
    const net = network([{ subnet: '10.89.0.0/24', gateway: '10.89.0.1' }]);
    await allocate(dir, net, 'a');
    const file = JSON.parse(readFileSync(join(dir, `${net.id}.json`), 'utf8'));
    assert.deepEqual(file, { last: { '10.89.0.0/24': '10.89.0.2' }, containers: { a: ['10.89.0.2'] } });
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('.')),
      [],
    ); // no temp files left
  });

  test('networks without host-local IPAM or subnets get no addresses; IDs cannot name other paths', async () => {
    const dir = ipamDir();
    const dhcp = network([{ subnet: '10.89.0.0/24' }], { driver: 'macvlan', ipam_options: { driver: 'dhcp' } });
    assert.equal(usesHostLocalIpam(dhcp), false);
    assert.deepEqual(await allocate(dir, dhcp, 'a'), []);
    assert.deepEqual(await allocate(dir, network([]), 'a'), []);
    assert.equal(usesHostLocalIpam((({ ipam_options: _none, ...rest }) => rest as Network)(network([{ subnet: '10.89.0.0/24' }]))), true);
    await assert.rejects(release(dir, '../evil', 'a'), { code: 'USAGE' });
    await assert.rejects(allocate(dir, network([{ subnet: '10.89.0.0/24' }]), '../a'), { code: 'USAGE' });
  });
});
