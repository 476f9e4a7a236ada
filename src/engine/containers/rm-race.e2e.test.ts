import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunResult } from '../../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../../testing/containers.js';

/** One `rm -f` of several racing for the same container: it removed it, or found it gone. */
function assertSensible(r: RunResult, name: string): void {
  assert.doesNotMatch(r.stderr, /ENOENT|EEXIST|ENOTEMPTY|\n\s+at /, r.stderr);
  if (r.code === 0) {
    assert.match(r.stdout, new RegExp(`^(${name}\\n)?$`));
    assert.equal(r.stderr, '');
  } else {
    // podman's rm exits 1 for a container that is not there.
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `Error: no container with name or ID "${name}" found: no such container\n`);
  }
}

describe('concurrent rm -f of one container', { timeout: 180_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  async function race(name: string): Promise<void> {
    const results = await Promise.all(Array.from({ length: 8 }, () => env.berth(['rm', '-f', '-t', '0', name])));
    for (const r of results) assertSensible(r, name);
    assert.ok(
      results.some((r) => r.stdout === `${name}\n`),
      'one of them removed it',
    );
    const ps = await env.ok(['ps', '-a', '--format', '{{.Names}}']);
    assert.doesNotMatch(ps.stdout, new RegExp(`^${name}$`, 'm'));
  }

  it('created containers: every rm exits sensibly, the container and its lock are gone', async () => {
    for (let i = 0; i < 6; i++) {
      await env.ok(['create', '--name', `created${i}`, 'busybox']);
      await race(`created${i}`);
    }
    assert.deepEqual(readdirSync(join(env.root, 'containers')), []);
  });

  it('running containers too', async () => {
    for (let i = 0; i < 2; i++) {
      await env.ok(['run', '-d', '--network', 'none', '--name', `running${i}`, 'busybox', 'sleep', '1000']);
      await race(`running${i}`);
    }
    assert.deepEqual(readdirSync(join(env.root, 'containers')), []);
  });
});
