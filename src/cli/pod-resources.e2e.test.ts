import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCommand, podmanArgs, podmanEnv, run } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

/**
 * A pod's cgroup and limits (`pod create --memory/--cpus`), its events and `--pod-id-file`,
 * through the real runtime: the limit seen from inside a member, nothing left after `pod rm`.
 */

/** Every cgroup hierarchy's directory for a path (each v1 controller, or the unified one). */
function cgroupDirs(path: string): string[] {
  const root = '/sys/fs/cgroup';
  const hierarchies = existsSync(join(root, 'cgroup.controllers'))
    ? [root]
    : readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => join(root, d.name));
  return hierarchies.map((h) => join(h, path)).filter((d) => existsSync(d));
}

const v1 = !existsSync('/sys/fs/cgroup/cgroup.controllers');

describe('pod resources, events, id files', { timeout: 120_000 }, () => {
  let env: ContainerEnv;
  before(async () => {
    env = await containerEnv();
  });
  after(async () => {
    await env?.berth(['pod', 'rm', '-a', '-f', '-t', '0']);
    env?.cleanup();
  });

  it('--memory/--cpus limit the pod’s cgroup, its members sit under it, pod rm takes it; pod events; --pod-id-file', async () => {
    const idFile = join(env.dir, 'pod-id');
    await env.ok(['pod', 'create', '--name', 'limited', '--memory', '64m', '--cpus', '0.5', '--pod-id-file', idFile]);
    const id = readFileSync(idFile, 'utf8').trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    // podman's refusal to overwrite another pod's file.
    assert.match((await env.berth(['pod', 'create', '--pod-id-file', idFile])).stderr, /pod id file exists/);
    await env.ok(['run', '-d', '--pod-id-file', idFile, '--name', 'limited-member', 'busybox', 'sleep', '600']);

    const pod = JSON.parse((await env.ok(['pod', 'inspect', 'limited'])).stdout) as Record<string, unknown>;
    assert.equal(pod.CreateCgroup, true);
    assert.equal(pod.CgroupParent, '/berth');
    assert.equal(pod.CgroupPath, `/berth/${id}`);
    assert.equal(pod.memory_limit, 64 * 1024 * 1024);
    assert.equal(pod.cpu_quota, 50_000);
    assert.equal(pod.cpu_period, 100_000);

    const member = (await env.ok(['inspect', '--format', '{{.Id}} {{.State.Pid}}', 'limited-member'])).stdout.trim().split(' ');
    const memoryLine = readFileSync(`/proc/${member[1]}/cgroup`, 'utf8')
      .split('\n')
      .find((l) => (v1 ? /:memory:/.test(l) : l.startsWith('0::')));
    assert.equal(memoryLine?.split(':')[2], `/berth/${id}/berth-${member[0]}`);
    if (v1) {
      assert.equal(readFileSync(`/sys/fs/cgroup/memory/berth/${id}/memory.limit_in_bytes`, 'utf8').trim(), String(64 * 1024 * 1024));
      assert.equal(readFileSync(`/sys/fs/cgroup/cpu/berth/${id}/cpu.cfs_quota_us`, 'utf8').trim(), '50000');
      // Inside, the member's own cgroup is unlimited, its parent's limit is what binds it.
      const stat = (await env.ok(['exec', 'limited-member', 'cat', '/sys/fs/cgroup/memory/memory.stat'])).stdout;
      assert.match(stat, new RegExp(`^hierarchical_memory_limit ${64 * 1024 * 1024}$`, 'm'));
    } else {
      assert.equal(readFileSync(`/sys/fs/cgroup/berth/${id}/memory.max`, 'utf8').trim(), String(64 * 1024 * 1024));
    }

    await env.ok(['pod', 'pause', 'limited']);
    await env.ok(['pod', 'unpause', 'limited']);
    await env.ok(['pod', 'kill', 'limited']);
    assert.equal((await env.ok(['pod', 'start', '--pod-id-file', idFile])).stdout.trim(), id);
    assert.equal((await env.ok(['pod', 'stop', '-t', '0', '--pod-id-file', idFile])).stdout.trim(), id);
    assert.equal((await env.ok(['pod', 'rm', '--pod-id-file', idFile])).stdout.trim(), id);
    assert.deepEqual(cgroupDirs(`berth/${id}`), []);
    assert.equal((await env.ok(['ps', '-aq'])).stdout, '');

    const events = await env.ok(['events', '--stream=false', '--filter', 'pod=limited', '--format', '{{.Type}} {{.Status}} {{.ID}} {{.Name}}']);
    assert.deepEqual(
      events.stdout.trim().split('\n'),
      ['create', 'pause', 'unpause', 'kill', 'start', 'stop', 'remove'].map((s) => `pod ${s} ${id} limited`),
    );
    // The members' events name their pod, as podman's do.
    const memberEvent = (await env.ok(['events', '--stream=false', '--filter', 'container=limited-member', '--filter', 'event=start', '--format', 'json']))
      .stdout;
    assert.equal((JSON.parse(memberEvent.split('\n')[0]!) as { PodID?: string }).PodID, id);
    // The file outlives the pod (podman leaves it too); reading one that is gone fails in podman's words, -i ignores it.
    assert.match(
      (await env.berth(['pod', 'rm', '--pod-id-file', join(env.dir, 'gone')])).stderr,
      /reading pod ID file: open .*gone: no such file or directory/,
    );
    assert.equal((await env.berth(['pod', 'rm', '-i', '--pod-id-file', join(env.dir, 'gone')])).code, 0);
  });

  it('an invalid limit makes nothing; beside podman, the same inspect fields for a limited pod', async () => {
    assert.match((await env.berth(['pod', 'create', '--name', 'bad', '--memory', '1k'])).stderr, /minimum memory limit/);
    assert.match((await env.berth(['pod', 'create', '--name', 'bad', '--cpu-shares', '1'])).stderr, /--cpu-shares/);
    assert.equal((await env.berth(['pod', 'exists', 'bad'])).code, 1);
    if (!hasCommand('podman')) return;
    const p = join(env.dir, 'podman');
    const podman = (args: string[]) => run('podman', [...podmanArgs(p, 'vfs'), ...args], { env: podmanEnv(p), timeoutMs: 60_000 });
    const args = ['pod', 'create', '--name', 'cmp-limits', '--memory', '64m', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0'];
    await env.ok(args);
    const made = await podman(args);
    try {
      assert.equal(made.code, 0, made.stderr);
      const keys = async (r: ReturnType<typeof podman>) =>
        Object.entries(JSON.parse((await r).stdout) as Record<string, unknown>).filter(([k]) => /^(cpu|memory)_|^Cgroup|^CreateCgroup$/.test(k));
      const ours = await keys(env.ok(['pod', 'inspect', 'cmp-limits']));
      const theirs = await keys(podman(['pod', 'inspect', 'cmp-limits']));
      // The same fields in the same order with the same values, but the cgroup's place (/berth, podman's /libpod_parent).
      const shown = (kv: [string, unknown][]) => kv.map(([k, v]) => `${k}=${/^Cgroup/.test(k) ? '' : JSON.stringify(v)}`);
      assert.deepEqual(shown(ours), shown(theirs));
    } finally {
      await podman(['pod', 'rm', '-f', 'cmp-limits']);
      await env.ok(['pod', 'rm', '-f', 'cmp-limits']);
    }
  });
  // Last: system reset takes the store's image too.
  it('system reset takes a limited pod’s cgroup too, with the last of its containers (the infra goes first)', async () => {
    const id = (await env.ok(['pod', 'create', '--name', 'reset-limited', '--memory', '32m'])).stdout.trim();
    await env.ok(['run', '-d', '--pod', 'reset-limited', 'busybox', 'sleep', '600']);
    await env.ok(['run', '-d', '--pod', 'reset-limited', 'busybox', 'sleep', '600']);
    assert.notDeepEqual(cgroupDirs(`berth/${id}`), []);
    await env.ok(['system', 'reset', '-f']);
    assert.equal((await env.berth(['pod', 'exists', 'reset-limited'])).code, 1);
    assert.deepEqual(cgroupDirs(`berth/${id}`), []);
  });
});
