import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ok } from '../testing/cli.js';
import { TEST_IMAGE } from '../testing/docker-engines.js';
import { type Scenario, scenariosPerEngine } from '../testing/docker-scenarios.js';
import { repoRoot } from '../testing/fixtures.js';

/**
 * testcontainers-node 11 against each engine: a GenericContainer from a local image with an exposed
 * port and a wait strategy, a network with an alias, exec, and stop. Ryuk (its reaper container) is
 * off: its image would come from Docker Hub, which is out of reach here.
 */

const clientScript = join(repoRoot, 'dist', 'lib', 'testing', 'testcontainers-client.js');

const scenarios: Record<string, Scenario> = {
  'GenericContainer with a port, a wait strategy, a network alias, exec and stop': async (e) => {
    const r = await ok(process.execPath, [clientScript, TEST_IMAGE], {
      // The mapped ports are reached on IPv4 loopback, where both anchors publish them.
      env: { ...e.env, TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1' },
      timeoutMs: 180_000,
    });
    const seen = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, any>;
    assert.equal(seen.page, 'from testcontainers\n');
    assert.deepEqual(seen.byAlias, { exitCode: 0, body: 'from testcontainers\n' });
    assert.deepEqual(seen.exec, { exitCode: 3, output: '42\n' });
    assert.equal(seen.stoppedId, seen.serverId);
    // Stopped means removed (testcontainers' default), and the network is gone.
    assert.equal((await e.docker(['inspect', seen.serverId])).code, 1);
    assert.equal((await e.docker(['network', 'inspect', seen.networkName])).code, 1);
    assert.equal((await e.dockerOk(['ps', '-aq', '--filter', 'label=org.testcontainers=true'])).stdout, '');
  },
};

scenariosPerEngine('testcontainers', scenarios, { timeoutMs: 300_000 });
