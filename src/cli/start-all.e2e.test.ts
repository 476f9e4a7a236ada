import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

/** `start --all` and `start --filter`, as podman's own start tests use them. */
describe('start --all and --filter', { timeout: 180_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('starts every stopped container, and not a running one', async () => {
    const done = (await env.ok(['run', '-d', '--network', 'none', 'busybox', 'true'])).stdout.trim();
    const failed = (await env.ok(['run', '-d', '--network', 'none', '--restart=no', 'busybox', 'false'])).stdout.trim();
    const running = (await env.ok(['run', '-d', '--network', 'none', 'busybox', 'sleep', '60'])).stdout.trim();
    await env.berth(['wait', done, failed]);
    const started = (await env.ok(['start', '--all'])).stdout;
    assert.match(started, new RegExp(done));
    assert.match(started, new RegExp(failed));
    assert.doesNotMatch(started, new RegExp(running));
    await env.ok(['rm', '-f', '-t', '0', done, failed, running]);
  });

  it('starts only what the filters keep, named or not, and refuses what podman refuses', async () => {
    const c1 = (await env.ok(['create', '--name', 'c1', '--network', 'none', '--restart=always', 'busybox', 'true'])).stdout.trim();
    await env.ok(['create', '--name', 'c2', '--network', 'none', '--restart=on-failure', 'busybox', 'true']);
    const c3 = (await env.ok(['create', '--name', 'c3', '--network', 'none', '--restart=always', 'busybox', 'true'])).stdout.trim();
    const byPolicy = (await env.ok(['start', '--filter', 'restart-policy=always'])).stdout.trim().split('\n').sort();
    assert.deepEqual(byPolicy, [c1, c3].sort());
    assert.equal((await env.ok(['start', '--filter', 'restart-policy=on-failure', 'c2', 'c3'])).stdout, 'c2\n');
    assert.equal((await env.ok(['start', '--filter', 'restart-policy=none', '--all'])).stdout, '');
    const bad = await env.berth(['start', '--filter', 'restart-policy=fakepolicy', 'c1']);
    assert.deepEqual([bad.code, bad.stderr], [125, 'Error: fakepolicy invalid restart policy\n']);
    const both = await env.berth(['start', '--all', 'c1']);
    assert.deepEqual([both.code, both.stderr], [125, 'Error: either start all containers or the container(s) provided in the arguments\n']);
    await env.ok(['rm', '-f', '-t', '0', 'c1', 'c2', 'c3']);
  });
  it('start -a of an --rm container prints its output and has removed it when it returns', async () => {
    const id = (await env.ok(['create', '--rm', '--network', 'none', 'busybox', 'echo', 'from-rm'])).stdout.trim();
    const r = await env.ok(['start', '-a', id]);
    assert.equal(r.stdout, 'from-rm\n');
    assert.equal((await env.berth(['container', 'exists', id])).code, 1);
  });
  it('logs of several containers are told apart by short ID, or by name with --names', async () => {
    const a = (await env.ok(['run', '-d', '--name', 'log-a', '--network', 'none', 'busybox', 'sh', '-c', 'echo a1; echo a2'])).stdout.trim();
    const b = (await env.ok(['run', '-d', '--name', 'log-b', '--network', 'none', 'busybox', 'sh', '-c', 'echo b1'])).stdout.trim();
    await env.ok(['wait', a, b]);
    const byId = (await env.ok(['logs', 'log-a', 'log-b'])).stdout;
    assert.match(byId, new RegExp(`^${a.slice(0, 12)} a1\n${a.slice(0, 12)} a2$`, 'm'));
    assert.match(byId, new RegExp(`^${b.slice(0, 12)} b1$`, 'm'));
    assert.match((await env.ok(['logs', '--names', 'log-a', 'log-b'])).stdout, /^log-b b1$/m);
    await env.ok(['rm', 'log-a', 'log-b']);
  });
});
