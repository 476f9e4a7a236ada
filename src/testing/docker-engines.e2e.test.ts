import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type DockerEngine, engineLeftovers, startEngine, TEST_ENGINES, TEST_IMAGE } from './docker-engines.js';
import { dockerChains, dockerdRunning, iptablesSave, linksWithAddressIn } from './host-leftovers.js';
import { freePort } from './registry.js';

/**
 * The engines the API scenarios run against start privately and leave nothing: no process, bridge,
 * firewall rule or chain, cgroup or directory of theirs once stopped, even after publishing a port.
 */

/** Firewall lines that name one of `marks` (an engine's bridges and its 10.N. block). */
function firewallNaming(marks: string[]): string[] {
  return (['filter', 'nat'] as const).flatMap((t) =>
    iptablesSave(t)
      .split('\n')
      .filter((l) => /^[:-]/.test(l) && marks.some((m) => l.includes(m))),
  );
}

for (const kind of TEST_ENGINES) {
  describe(`test engine: ${kind}`, { timeout: 300_000 }, () => {
    it('starts on a private socket with the test image, publishes a port, and leaves nothing once stopped', async () => {
      let marks: string[] = [];
      let engine: DockerEngine | undefined;
      try {
        engine = await startEngine(kind);
        assert.match((await engine.dockerOk(['version', '--format', '{{.Server.Version}}'])).stdout, /\d+\.\d+/);
        assert.match((await engine.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, new RegExp(TEST_IMAGE.replace('.', '\\.')));
        const port = await freePort();
        await engine.dockerOk([
          'run',
          '-d',
          '--name',
          'web',
          '-p',
          `127.0.0.1:${port}:80`,
          TEST_IMAGE,
          'sh',
          '-c',
          'mkdir /w && echo hi > /w/index.html && exec httpd -f -p 80 -h /w',
        ]);
        let body = '';
        for (let i = 0; i < 50 && body === ''; i++) {
          body = await fetch(`http://127.0.0.1:${port}/`).then(
            (r) => r.text(),
            () => '',
          );
          if (body === '') await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(body, 'hi\n');
        // The default network's subnet as the engine reports it (berth's comes from its own pool, not the engine's given range).
        const subnet = (await engine.dockerOk(['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Subnet}}'])).stdout.trim();
        const prefix = `${subnet.split('.').slice(0, 3).join('.')}.`;
        marks = [prefix, ...linksWithAddressIn([prefix])];
        assert.ok(marks.length >= 2, `no bridge of ${kind} in ${prefix}`);
      } finally {
        await engine?.stop();
      }
      assert.ok(engine);
      assert.deepEqual(engineLeftovers(engine), []);
      assert.ok(!existsSync(engine.dir));
      assert.deepEqual(firewallNaming(marks), []);
      // The DOCKER chains go with the last dockerd.
      if (!dockerdRunning()) assert.deepEqual([...dockerChains('filter'), ...dockerChains('nat')], []);
    });
  });
}
