import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { insideRootlessNetns, netavarkArgv, netavarkName, runForOutput, underNetavarkNames } from './netavark.js';
import type { Network } from './types.js';

const network = (name: string, id: string): Network => ({
  name,
  id,
  driver: 'bridge',
  network_interface: 'berth0',
  created: '2026-12-03T00:00:00Z',
  subnets: [{ subnet: '10.90.0.0/24', gateway: '10.90.0.1' }],
  ipv6_enabled: false,
  internal: false,
  dns_enabled: true,
});

describe('networks as netavark knows them', { timeout: 10_000 }, () => {
  test('two stores’ default networks, both "podman", reach netavark under different names (its chains are named after them)', () => {
    const a = network('podman', 'a'.repeat(64));
    const b = network('podman', 'b'.repeat(64));
    assert.notEqual(netavarkName(a), netavarkName(b));
    assert.equal(netavarkName(a), `berth-${'a'.repeat(20)}`);
  });

  test('the input is renamed throughout and the status maps back to berth’s names', () => {
    const app = network('app', 'c'.repeat(64));
    const { options, berthName } = underNetavarkNames({
      container_id: 'x',
      container_name: 'web',
      networks: { app: { interface_name: 'eth0', aliases: ['db'] } },
      network_info: { app },
    });
    const n = netavarkName(app);
    assert.deepEqual(Object.keys(options.networks), [n]);
    assert.deepEqual(options.networks[n], { interface_name: 'eth0', aliases: ['db'] });
    assert.equal(options.network_info[n]!.name, n);
    assert.equal(options.network_info[n]!.id, app.id);
    assert.equal(berthName.get(n), 'app');
  });

  test('rootless, netavark runs inside the rootless netns under the config directory, told it is rootless', () => {
    const root = netavarkArgv('/usr/lib/podman/netavark', 'setup', '/run/ns/c', '/run/berth/networks', undefined, false);
    assert.deepEqual(root, ['/usr/lib/podman/netavark', '--config', '/run/berth/networks', '--rootless', 'false', 'setup', '/run/ns/c']);
    const rootless = netavarkArgv('/usr/lib/podman/netavark', 'teardown', '/run/ns/c', '/run/user/9/berth/networks', '/a', true);
    assert.match(rootless[0]!, /nsenter$/);
    assert.deepEqual(rootless.slice(1), [
      '--net=/run/user/9/berth/networks/rootless-netns/netns',
      '--',
      '/usr/lib/podman/netavark',
      '--config',
      '/run/user/9/berth/networks',
      '--rootless',
      'true',
      '--aardvark-binary',
      '/a',
      'teardown',
      '/run/ns/c',
    ]);
  });

  test('rootless with a resolv.conf of its own, netavark runs in a mount namespace where it is /etc/resolv.conf (the path an argument, not the script)', () => {
    const argv = netavarkArgv('/nv', 'setup', '/run/ns/c', '/cfg', undefined, true, '/cfg/rootless-netns/resolv.conf');
    assert.match(argv[0]!, /unshare$/);
    const sh = argv.indexOf('sh');
    assert.deepEqual(argv.slice(1, sh), ['--mount', '--propagation', 'private', '--']);
    assert.equal(argv[sh + 1], '-c');
    assert.doesNotMatch(argv[sh + 2]!, /\/cfg/);
    assert.deepEqual(argv.slice(sh + 3, sh + 5), ['sh', '/cfg/rootless-netns/resolv.conf']);
    assert.deepEqual(argv.slice(sh + 6), ['--net=/cfg/rootless-netns/netns', '--', '/nv', '--config', '/cfg', '--rootless', 'true', 'setup', '/run/ns/c']);
  });

  test('rootless, netavark forwards a published port from any address of the rootless netns (slirp4netns delivers it there)', () => {
    const options = {
      container_id: 'x',
      container_name: 'web',
      port_mappings: [{ host_ip: '127.0.0.1', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' as const }],
      networks: {},
      network_info: {},
    };
    assert.deepEqual(insideRootlessNetns(options).port_mappings, [{ host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' }]);
    assert.equal(options.port_mappings[0]!.host_ip, '127.0.0.1');
  });
});

describe('runForOutput', () => {
  test('a stdout that ends after the program exited (a child holding it) is read whole, and no timer is left behind', { timeout: 10_000 }, async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    // The shell exits at once; its background child writes and closes stdout 200 ms later.
    const r = await runForOutput('sh', ['-c', 'cat >/dev/null; (sleep 0.2; echo late) & exit 0'], process.env, '{}');
    assert.deepEqual(r, { code: 0, stdout: 'late\n', stderr: '' });
    // A grace timer still pending here held the CLI's process 2 s after its work was done.
    assert.equal(timers(), before);
  });

  test('gives the input on stdin, and is done at the exit though a child keeps stderr open (as aardvark-dns does)', { timeout: 10_000 }, async () => {
    const started = Date.now();
    const r = await runForOutput('sh', ['-c', 'cat; echo said >&2; sleep 5 >/dev/null & exit 3'], process.env, '{"in":1}');
    assert.deepEqual(r, { code: 3, stdout: '{"in":1}', stderr: 'said\n' });
    assert.ok(Date.now() - started < 2000, `waited ${Date.now() - started} ms for the child holding stderr`);
  });

  test('a program that cannot be run is an error naming it', { timeout: 10_000 }, async () => {
    await assert.rejects(runForOutput('/nonexistent/netavark', [], process.env, '{}'), /running netavark: spawn \/nonexistent\/netavark ENOENT/);
  });
});
