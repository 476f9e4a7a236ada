import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';
import { freePort } from '../testing/registry.js';

/**
 * A container's life without berth's native addon (BERTH_NO_NATIVE=1, as on a machine where it
 * could not be built): every call it makes has a fallback through Node or a program (mount,
 * umount, the attach bridge, the port binds and holds, conmon's, netavark's and the runtime's
 * spawns), and these are the paths no other test takes.
 */
describe('without the native addon', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  const noNative = { env: { ...process.env, BERTH_NO_NATIVE: '1' } };
  const tag = `nn${process.pid}`;
  before(async () => {
    env = await containerEnv();
  });
  after(() => env?.cleanup());

  it('runs, attaches, publishes and holds a port on a bridge, stops and removes, as with it', async () => {
    const attached = await env.ok(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 0'], noNative);
    assert.equal(attached.stdout, 'out\n');
    assert.equal(attached.stderr, 'err\n');
    assert.equal((await env.berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'exit 7'], noNative)).code, 7);

    const port = await freePort();
    const pod = `${tag}-pod`;
    await env.ok(['pod', 'create', '--name', pod, '-p', `${port}:80`], noNative);
    await env.ok(
      ['run', '-d', '--pod', pod, '--name', `${tag}-web`, 'busybox', 'sh', '-c', 'mkdir /w && echo served > /w/index.html && exec httpd -f -p 80 -h /w'],
      noNative,
    );
    let body = '';
    for (let i = 0; i < 50 && body !== 'served\n'; i++) {
      body = (await run('curl', ['-sS', '-m', '5', `http://127.0.0.1:${port}/`])).stdout;
      if (body !== 'served\n') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, 'served\n');
    const holders = (await run('ss', ['-Hltnp'])).stdout.split('\n');
    assert.ok(
      holders.some((l) => l.includes(`0.0.0.0:${port} `) && l.includes('"conmon"')),
      `port ${port} not held by conmon:\n${holders.join('\n')}`,
    );
    assert.equal((await env.ok(['exec', `${tag}-web`, 'cat', '/w/index.html'], noNative)).stdout, 'served\n');
    await env.ok(['stop', '-t', '0', `${tag}-web`], noNative);
    await env.ok(['pod', 'rm', '-f', '-t', '0', pod], noNative);
    assert.equal((await env.ok(['ps', '-a', '-q'])).stdout, '');
    assert.ok(!(await run('ss', ['-Hltn'])).stdout.includes(`:${port} `), 'the port stayed bound');
  });
});
