import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';
import { busyboxRootfs, hasCommand, ok, podmanArgs, run } from '../testing/cli.js';

/**
 * berth and podman 4 (netavark too, on its own store and network config) on one host: each picks
 * a subnet the other's running bridge does not use, and the containers of both are served.
 */
describe("networks beside podman's", { timeout: 420_000, skip: !hasCommand('podman') && 'podman is not installed' }, () => {
  let env: ContainerEnv;
  let podmanEnv: NodeJS.ProcessEnv;
  let pm: (args: string[]) => ReturnType<typeof ok>;
  const tag = `t${process.pid}`;
  const names = { berth: `${tag}-berth`, berth2: `${tag}-berth2`, podman: `${tag}-podman` };

  before(async () => {
    env = await containerEnv();
    const conf = join(env.dir, 'containers.conf');
    mkdirSync(join(env.dir, 'podman-netconf'), { recursive: true });
    // podman's own network config directory, so that the host's /etc/containers/networks is untouched.
    writeFileSync(
      conf,
      [
        '[containers]',
        'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]',
        '[network]',
        'network_backend = "netavark"',
        `network_config_dir = "${join(env.dir, 'podman-netconf')}"`,
        '',
      ].join('\n'),
    );
    podmanEnv = { ...process.env, CONTAINERS_CONF: conf };
    pm = (args) => ok('podman', [...podmanArgs(env.dir), ...args], { env: podmanEnv });
    const tarball = join(env.dir, 'bb-podman.tar');
    await busyboxRootfs(tarball);
    await pm(['import', '--change', 'CMD ["sh"]', tarball, 'localhost/busybox']);
  });
  after(async () => {
    await run('podman', [...podmanArgs(env.dir), 'rm', '-af', '-t', '0'], { env: podmanEnv });
    await run('podman', [...podmanArgs(env.dir), 'network', 'rm', '-f', names.podman], { env: podmanEnv });
    await run('podman', [...podmanArgs(env.dir), 'system', 'reset', '-f'], { env: podmanEnv });
    await env?.berth(['rm', '-af', '-t', '0']);
    env?.cleanup();
  });

  const subnetOf = (inspectJson: string) => (JSON.parse(inspectJson) as { subnets: { subnet: string }[] }[])[0]!.subnets[0]!.subnet;
  const serve = (text: string) => ['sh', '-c', `mkdir /w && echo ${text} > /w/index.html && exec httpd -f -p 80 -h /w`];

  it("each engine picks a subnet the other's bridge does not use, and both containers are served", async () => {
    await env.ok(['network', 'create', names.berth]);
    const berthSubnet = subnetOf((await env.ok(['network', 'inspect', names.berth])).stdout);
    // The bridge and its route exist once a container runs on the network.
    const b = (await env.ok(['run', '-d', '--network', names.berth, 'busybox', ...serve('from-berth')])).stdout.trim();

    await pm(['network', 'create', names.podman]);
    const podmanSubnet = subnetOf((await pm(['network', 'inspect', names.podman])).stdout);
    assert.notEqual(podmanSubnet, berthSubnet);
    const p = (await pm(['run', '-d', '--network', names.podman, 'localhost/busybox', ...serve('from-podman')])).stdout.trim();

    // And berth, now that podman's bridge is up, keeps away from podman's subnet.
    await env.ok(['network', 'create', names.berth2]);
    const berth2Subnet = subnetOf((await env.ok(['network', 'inspect', names.berth2])).stdout);
    assert.notEqual(berth2Subnet, podmanSubnet);
    assert.notEqual(berth2Subnet, berthSubnet);

    const berthIp = (await env.ok(['inspect', '--format', `{{(index .NetworkSettings.Networks "${names.berth}").IPAddress}}`, b])).stdout.trim();
    const podmanIp = (await pm(['inspect', '--format', `{{(index .NetworkSettings.Networks "${names.podman}").IPAddress}}`, p])).stdout.trim();
    assert.equal((await run('curl', ['-sS', '-m', '10', `http://${berthIp}/`])).stdout, 'from-berth\n');
    assert.equal((await run('curl', ['-sS', '-m', '10', `http://${podmanIp}/`])).stdout, 'from-podman\n');
  });
});
