import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

describe("--hostname, --add-host and --dns* reach the container's /etc files, and nothing else does", { timeout: 120_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('writes the host name and extra hosts into /etc/hosts, the DNS settings into resolv.conf', async () => {
    const r = await env.ok([
      'run',
      '--rm',
      '--network',
      'slirp4netns',
      '--hostname',
      'web_1.example',
      '--add-host',
      'db:10.0.0.5,v6:::1',
      '--dns',
      '9.9.9.9',
      '--dns-search',
      'ex.com',
      '--dns-option',
      'ndots:3',
      'busybox',
      'sh',
      '-c',
      'hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf',
    ]);
    const [hostname, hosts, resolv] = r.stdout.split('---\n');
    assert.equal(hostname, 'web_1.example\n');
    assert.match(hosts!, /^10\.0\.0\.5\tdb\n::1\tv6\n/);
    assert.match(hosts!, /^10\.0\.2\.100\tweb_1\.example \S+$/m);
    // Through slirp4netns the host is its own first address (its loopback is not reachable).
    const own = Object.values(networkInterfaces())
      .flat()
      .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
    if (own) assert.ok(hosts!.includes(`${own}\thost.containers.internal host.docker.internal\n`), hosts);
    const onHost = await env.ok(['run', '--rm', '--network', 'host', 'busybox', 'cat', '/etc/hosts']);
    assert.match(onHost.stdout, /^127\.0\.0\.1\thost\.containers\.internal host\.docker\.internal$/m);
    assert.equal(resolv, 'search ex.com\nnameserver 9.9.9.9\noptions ndots:3\n');
  });

  it('on the default bridge: its own address and the gateway as host.containers.internal', async () => {
    const r = await env.ok([
      'run',
      '--rm',
      '--hostname',
      'web',
      'busybox',
      'sh',
      '-c',
      'ip -4 -o addr show eth0; ip route | grep default; echo ---; cat /etc/hosts',
    ]);
    const [net, hosts] = r.stdout.split('---\n');
    const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(net!)?.[1];
    const gateway = /default via (\S+)/.exec(net!)?.[1];
    assert.ok(ip && gateway, net);
    assert.match(hosts!, new RegExp(`^${ip.replace(/\./g, '\\.')}\tweb \\S+$`, 'm'));
    assert.ok(hosts!.includes(`${gateway}\thost.containers.internal host.docker.internal\n`), hosts);
  });

  it('refuses a newline in any of them at create, creating nothing', async () => {
    for (const [flag, value, message] of [
      ['--hostname', 'h\n6.6.6.6 registry.example', /^Error: invalid hostname "h\\n6\.6\.6\.6 registry\.example": /],
      ['--add-host', 'db:10.0.0.5\n6.6.6.6 registry.example', /^Error: invalid IP address in add-host: "10\.0\.0\.5\\n6\.6\.6\.6 registry\.example"$/],
      ['--add-host', 'db\n6.6.6.6 x:10.0.0.5', /^Error: bad format for add-host: /],
      ['--dns', '9.9.9.9\nnameserver 6.6.6.6', /^Error: "9\.9\.9\.9\\nnameserver 6\.6\.6\.6" is not an ip address$/],
      ['--dns-search', 'ex.com\nnameserver 6.6.6.6', /^Error: "ex\.com\\nnameserver 6\.6\.6\.6" is not a valid domain$/],
      ['--dns-option', 'ndots:1\nnameserver 6.6.6.6', /^Error: invalid dns option "ndots:1\\nnameserver 6\.6\.6\.6"$/],
    ] as const) {
      const r = await env.berth(['create', flag, value, 'busybox', 'true']);
      assert.equal(r.code, 125, `${flag}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.match(r.stderr.trim(), message);
    }
    assert.equal((await env.ok(['ps', '-aq'])).stdout, '');
  });
});
