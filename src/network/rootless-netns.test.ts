import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { unprivilegedPortStart } from './port-assignment.js';
import { checkUnprivilegedPorts, rootlessResolvConf } from './rootless-netns.js';
import type { PortMapping } from './types.js';

describe('the resolv.conf aardvark-dns sees in the rootless netns', { timeout: 10_000 }, () => {
  test('a host whose resolvers are reachable from the namespace keeps its own', () => {
    assert.equal(rootlessResolvConf('nameserver 10.255.255.53\nsearch corp.example\n'), undefined);
  });

  test('a resolver on the host loopback (systemd-resolved) becomes slirp4netns’s DNS; the rest is kept', () => {
    assert.equal(
      rootlessResolvConf('# stub\nnameserver 127.0.0.53\nnameserver 10.1.1.1\noptions edns0 trust-ad\nsearch lan\n'),
      '# stub\noptions edns0 trust-ad\nsearch lan\nnameserver 10.0.2.3\nnameserver 10.1.1.1\n',
    );
    assert.equal(rootlessResolvConf('nameserver ::1\nnameserver 127.0.0.1\n'), 'nameserver 10.0.2.3\n');
  });

  test('no nameserver at all (the resolver then asks the loopback) is slirp4netns’s DNS too', () => {
    assert.equal(rootlessResolvConf(''), 'nameserver 10.0.2.3\n');
  });
});

describe('rootless published ports', { timeout: 10_000 }, () => {
  const port = (host_port: number): PortMapping => ({ host_ip: '127.0.0.1', container_port: 80, host_port, range: 1, protocol: 'tcp' });
  test('a host port below net.ipv4.ip_unprivileged_port_start is refused in one line saying what to do', () => {
    checkUnprivilegedPorts([port(8080), port(1024)], 1024);
    assert.throws(
      () => checkUnprivilegedPorts([port(8080), port(80)], 1024),
      /^BerthError: rootless berth cannot expose privileged port 80, you can add 'net\.ipv4\.ip_unprivileged_port_start=80' to \/etc\/sysctl\.conf \(currently 1024\), or choose a larger port number \(>= 1024\)$/,
    );
    checkUnprivilegedPorts([port(80)], 0);
  });

  test('the setting is read from the kernel, 1024 where it cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-unpriv-'));
    try {
      writeFileSync(join(dir, 'start'), '80\n');
      assert.equal(unprivilegedPortStart(join(dir, 'start')), 80);
      assert.equal(unprivilegedPortStart(join(dir, 'none')), 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
