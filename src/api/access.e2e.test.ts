import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { ok, run } from '../testing/cli.js';
import type { DockerEngine } from '../testing/docker-engines.js';
import { podmanDiffers, type Scenario, scenariosPerEngine } from '../testing/docker-scenarios.js';

/**
 * Who may use an engine's socket: not a user outside its group (a temporary system user, removed
 * afterwards), and nothing of the engine listens on TCP unless asked.
 */

/** The docker CLI as `user`, with no config of its own. */
function dockerAs(e: DockerEngine, user: string, args: string[]) {
  return run('runuser', ['-u', user, '--', 'docker', ...args], {
    env: { DOCKER_HOST: e.env.DOCKER_HOST, DOCKER_CONFIG: '/nonexistent', HOME: '/nonexistent' },
    timeoutMs: 60_000,
  });
}

async function withTemporaryUser(fn: (user: string) => Promise<void>): Promise<void> {
  const user = `berthna${randomBytes(3).toString('hex')}`;
  await ok('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  try {
    await fn(user);
  } finally {
    await run('userdel', [user]);
  }
}

/** The TCP ports a process listens on (ss's view of its sockets). */
async function tcpListeners(pid: number): Promise<string[]> {
  const r = await ok('ss', ['-Hltnp']);
  return r.stdout.split('\n').filter((l) => l.includes(`pid=${pid},`));
}

const scenarios: Record<string, Scenario> = {
  'a user without group access is refused; a member of the socket’s group is let in': async (e) => {
    const st = statSync(e.socket);
    await withTemporaryUser(async (user) => {
      const refused = await dockerAs(e, user, ['version', '--format', '{{.Server.Version}}']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /permission denied/i);
      // dockerd: the socket is 0660 and its group (`docker`, made by the docker.io package) lets
      // members in. podman 4.3's service makes it 0600 root's: no group is let in.
      if (podmanDiffers(e)) {
        assert.equal(st.mode & 0o777, 0o600);
        return;
      }
      assert.equal(st.mode & 0o777, 0o660);
      const group = (await ok('getent', ['group', String(st.gid)])).stdout.split(':')[0]!;
      assert.equal(group, 'docker');
      await ok('usermod', ['-a', '-G', group, user]);
      const allowed = await dockerAs(e, user, ['version', '--format', '{{.Server.Version}}']);
      assert.equal(allowed.code, 0, allowed.stderr);
    });
  },

  'nothing listens on TCP unless asked': async (e) => {
    assert.deepEqual(await tcpListeners(e.pid), []);
  },
};

scenariosPerEngine('socket access', scenarios, { timeoutMs: 180_000 });
