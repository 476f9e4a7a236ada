import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCommand, podmanArgs, run } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

const NONE = ['--network', 'none'];

/** Every key path of a JSON value (`host.ociRuntime.path`), array items left out. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...keyPaths(v, `${prefix}${k}.`)]);
}

describe('info, system df and the exists commands, with real containers and volumes', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  before(async () => {
    env = await containerEnv();
    // One running container with a volume, one stopped one, and a volume nothing mounts (6 bytes in it).
    await env.ok(['run', '-d', '--name', 'up', ...NONE, '-v', 'used:/data', 'busybox', 'sleep', '300']);
    await env.ok(['create', '--name', 'down', ...NONE, 'busybox', 'true']);
    const unused = JSON.parse((await env.ok(['volume', 'create', 'unused']).then(() => env.ok(['volume', 'inspect', 'unused']))).stdout) as {
      Mountpoint: string;
    }[];
    writeFileSync(join(unused[0]!.Mountpoint, 'file'), 'hello\n');
  });
  after(() => env?.cleanup());

  it("info prints podman's YAML layout with the containers and images counted", async () => {
    const r = await env.berth(['info']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^host:\n {2}arch: \S+\n/);
    assert.ok(r.stdout.includes('store:\n  containerStore:\n    number: 2\n    paused: 0\n    running: 1\n    stopped: 1\n'), r.stdout);
    assert.ok(r.stdout.includes(`  graphRoot: ${env.root}\n`), r.stdout);
    assert.ok(r.stdout.includes('  imageStore:\n    number: 1\n'), r.stdout);
    assert.match(r.stdout, /\nversion:\n {2}APIVersion: /);
  });

  it("info --format takes podman's Go field names; json its JSON names", async () => {
    const field = async (template: string) => (await env.ok(['info', '--format', template])).stdout;
    const runtime = (await field('{{.Host.OCIRuntime.Path}}')).trim();
    assert.ok(existsSync(runtime) && /\/(crun|runc)$/.test(runtime), runtime);
    assert.equal(await field('{{.Store.GraphRoot}}'), `${env.root}\n`);
    assert.equal(await field('{{.Store.RunRoot}}'), `${env.runRoot}\n`);
    assert.equal(await field('{{.Store.ContainerStore.Number}} {{.Store.ContainerStore.Running}} {{.Store.ContainerStore.Stopped}}'), '2 1 1\n');
    assert.equal(await field('{{.Store.ImageStore.Number}}'), '1\n');
    assert.equal(await field('{{.Host.Arch}}/{{.Host.OS}}'), `${process.arch === 'x64' ? 'amd64' : process.arch}/linux\n`);
    assert.match(await field('{{.Host.CPUs}} {{.Host.MemTotal}} {{.Host.Security.Rootless}} {{.Host.CgroupsVersion}}'), /^\d+ \d+ (true|false) v[12]\n$/);
    const json = JSON.parse(await field('json')) as { store: { containerStore: { number: number }; imageStore: { number: number } } };
    assert.equal(json.store.containerStore.number, 2);
    assert.equal(json.store.imageStore.number, 1);
    assert.match(await field('{{json .Store.ContainerStore}}'), /^\{"number":2,"paused":0,"running":1,"stopped":1\}\n$/);
  });

  it("info's JSON names are podman's", { skip: !hasCommand('podman') && 'podman is not installed' }, async () => {
    const ours = keyPaths(JSON.parse((await env.ok(['info', '--format', 'json'])).stdout));
    const theirs = await run('podman', [...podmanArgs(env.dir), 'info', '--format', 'json']);
    assert.equal(theirs.code, 0, theirs.stderr);
    const known = new Set(keyPaths(JSON.parse(theirs.stdout)));
    // The map-valued fields' keys are data, and berth's own version fields are berth's.
    const berthOnly = (p: string) => p.startsWith('registries.') || p === 'version.NodeVersion';
    assert.deepEqual(
      ours.filter((p) => !known.has(p) && !berthOnly(p)),
      [],
    );
  });

  it('system df counts containers and volumes, what is active and what a prune would free', async () => {
    const rows = JSON.parse((await env.ok(['system', 'df', '--format', 'json'])).stdout) as {
      Type: string;
      Total: number;
      Active: number;
      RawSize: number;
      RawReclaimable: number;
    }[];
    const byType = Object.fromEntries(rows.map((r) => [r.Type, r]));
    assert.deepEqual([byType.Images!.Total, byType.Images!.Active], [1, 1]);
    assert.equal(byType.Images!.RawReclaimable, 0, 'the only image is in use');
    assert.deepEqual([byType.Containers!.Total, byType.Containers!.Active], [2, 1]);
    assert.deepEqual([byType['Local Volumes']!.Total, byType['Local Volumes']!.Active], [2, 1]);
    assert.equal(byType['Local Volumes']!.RawReclaimable, 6);
    const table = (await env.ok(['system', 'df'])).stdout;
    assert.match(table, /\nContainers\s+2\s+1\s/);
    assert.match(table, /\nLocal Volumes\s+2\s+1\s+6B\s+6B \(\d+%\)\n/);
  });

  it('image, container and volume exists: 0 when it does, 1 when not, silent; 125 on a bad name', async () => {
    for (const [args, code] of [
      [['image', 'exists', 'busybox'], 0],
      [['image', 'exists', 'localhost/busybox:latest'], 0],
      [['image', 'exists', 'nothere'], 1],
      [['image', 'exists', 'Bad::name'], 125],
      [['container', 'exists', 'up'], 0],
      [['container', 'exists', 'down'], 0],
      [['container', 'exists', 'nothere'], 1],
      [['volume', 'exists', 'unused'], 0],
      [['volume', 'exists', 'nothere'], 1],
    ] as const) {
      const r = await env.berth([...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      if (code !== 125) assert.equal(r.stderr, '', args.join(' '));
    }
    const id = (await env.ok(['images', '-q'])).stdout.trim();
    assert.equal((await env.berth(['image', 'exists', id])).code, 0);
  });
});
