import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { netnsLan } from './netns-lan.js';

const output = (child: import('node:child_process').ChildProcess) =>
  new Promise<string>((ok) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => ok(out));
  });

describe('a LAN of network namespaces for multi-machine tests', { timeout: 60_000 }, () => {
  test('each host has its own address, reaches the host through the gateway, and cleanup leaves nothing', async () => {
    const lan = await netnsLan();
    const server = createServer((_req, res) => res.end('from the host'));
    await new Promise<void>((ok) => server.listen(0, lan.gateway, ok));
    let netnsNames: string[] = [];
    try {
      const [a, b] = [await lan.addHost(), await lan.addHost()];
      netnsNames = [a.netns, b.netns];
      assert.notEqual(a.address, b.address);
      const port = (server.address() as AddressInfo).port;
      // busybox's wget crashes here, and curl is not in every namespace image; the host's curl runs inside.
      const got = await output(a.spawn('curl', ['-s', `http://${lan.gateway}:${port}/`], { stdio: ['ignore', 'pipe', 'inherit'] }));
      assert.equal(got, 'from the host');
      const addrs = await output(b.spawn('ip', ['-4', '-o', 'addr'], { stdio: ['ignore', 'pipe', 'inherit'] }));
      assert.match(addrs, new RegExp(`inet ${b.address.replaceAll('.', '\\.')}/24`));
      assert.doesNotMatch(addrs, new RegExp(`inet ${a.address.replaceAll('.', '\\.')}/`));
    } finally {
      server.close();
      await lan.cleanup();
    }
    for (const n of netnsNames) assert.equal(existsSync(`/run/netns/${n}`), false);
    assert.doesNotMatch(execFileSync('ip', ['-o', 'addr'], { encoding: 'utf8' }), new RegExp(`inet ${lan.gateway.replaceAll('.', '\\.')}/`));
  });
});
