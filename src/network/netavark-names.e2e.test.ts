// Two stores' default networks (each called "podman", as podman's own is) keep apart on the host:
// netavark names its firewall chains after the network's name, so berth hands it a name of the
// network's ID. Before, one store's last teardown deleted the NAT chain the other's containers used,
// and the other's next start failed with "No chain/target/match by that name".
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type ContainerEnv, containerEnv } from '../testing/containers.js';

/** The NAT rules that send a subnet's traffic to its netavark chain. */
const postrouting = (subnet: string) =>
  execFileSync('iptables', ['-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`-s ${subnet} `));

describe('default networks of two stores on one host', { timeout: 5 * 60_000 }, () => {
  let one: ContainerEnv;
  let two: ContainerEnv;
  before(async () => {
    one = await containerEnv();
    two = await containerEnv();
  });
  after(() => {
    one?.cleanup();
    two?.cleanup();
  });

  test('each gets its own netavark chain, and one’s teardown leaves the other’s', async () => {
    await one.ok(['run', '-d', '--name', 'a', 'busybox', 'sleep', '600']);
    await two.ok(['run', '-d', '--name', 'b', 'busybox', 'sleep', '600']);
    const subnetOf = async (env: ContainerEnv) =>
      (await env.ok(['network', 'inspect', 'podman', '--format', '{{range .Subnets}}{{.Subnet}}{{end}}'])).stdout.trim();
    const [s1, s2] = [await subnetOf(one), await subnetOf(two)];
    assert.notEqual(s1, s2);
    const [r1, r2] = [postrouting(s1), postrouting(s2)];
    assert.equal(r1.length, 1, r1.join('\n'));
    assert.equal(r2.length, 1, r2.join('\n'));
    const chain = (rule: string) => rule.split(' -j ')[1];
    assert.notEqual(chain(r1[0]!), chain(r2[0]!), 'both default networks share one netavark chain');
    await one.ok(['rm', '-f', '-t', '0', 'a']);
    assert.deepEqual(postrouting(s1), []);
    assert.deepEqual(postrouting(s2), r2);
    // The second store's default network still works for a new container.
    assert.equal((await two.ok(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 route | grep -c default'])).stdout.trim(), '1');
    await two.ok(['rm', '-f', '-t', '0', 'b']);
  });
});
