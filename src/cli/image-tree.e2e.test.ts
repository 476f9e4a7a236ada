import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildContext, containerEnv, type ContainerEnv } from '../testing/containers.js';

describe('image tree', { timeout: 180_000 }, () => {
  let env: ContainerEnv;
  let base: string;
  let mid: string;
  let top: string;
  before(async () => {
    env = await containerEnv();
    const ctx = buildContext(env, 'ctx', {
      Containerfile: 'FROM busybox\nRUN echo a > /a\nRUN echo b > /b\n',
      'Containerfile.top': 'FROM mid\nRUN echo c > /c\n',
    });
    await env.ok(['build', '-q', '--network', 'none', '-t', 'mid', '-f', `${ctx}/Containerfile`, ctx]);
    await env.ok(['tag', 'mid', 'mid:other']);
    await env.ok(['build', '-q', '--network', 'none', '-t', 'top', '-f', `${ctx}/Containerfile.top`, ctx]);
    const id = async (n: string) => (await env.ok(['image', 'inspect', '--format', '{{.Id}}', n])).stdout.trim();
    [base, mid, top] = [await id('busybox'), await id('mid'), await id('top')];
  });
  after(() => env?.cleanup());

  it('prints the image header and its layers bottom first, each with the images it tops', async () => {
    const r = await env.ok(['image', 'tree', 'top']);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `Image ID: ${top.slice(0, 12)}`);
    assert.equal(lines[1], 'Tags:     [localhost/top:latest]');
    assert.match(lines[2]!, /^Size:     [0-9.]+[kM]B$/);
    assert.equal(lines[3], 'Image Layers');
    assert.match(lines[4]!, /^├── ID: [0-9a-f]{12} Size: [ 0-9.]{1,6}[kM]?B Top Layer of: \[localhost\/busybox:latest\]$/);
    assert.match(lines[5]!, /^├── ID: [0-9a-f]{12} Size: +[0-9.]+[kM]?B$/);
    assert.match(lines[6]!, /^├── ID: [0-9a-f]{12} Size: +[0-9.]+[kM]?B Top Layer of: \[localhost\/mid:latest localhost\/mid:other\]$/);
    assert.match(lines[7]!, /^└── ID: [0-9a-f]{12} Size: +[0-9.]+[kM]?B Top Layer of: \[localhost\/top:latest\]$/);
    // The size column is 7 wide (podman's %7v), and the tree ends with a blank line.
    assert.equal(lines[7]!.indexOf(' Top Layer'), lines[6]!.indexOf(' Top Layer'));
    assert.deepEqual(lines.slice(8), ['', '']);
    assert.equal(base.length, 64);
    assert.equal(mid.length, 64);
  });

  it("--whatrequires shows the layers built on the image's top layer", async () => {
    const r = await env.ok(['image', 'tree', '--whatrequires', 'mid']);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `Image ID: ${mid.slice(0, 12)}`);
    assert.equal(lines[1], 'Tags:     [localhost/mid:latest localhost/mid:other]');
    assert.match(lines[4]!, /^├── ID: [0-9a-f]{12} .* Top Layer of: \[localhost\/mid:latest localhost\/mid:other\]$/);
    assert.match(lines[5]!, /^└── ID: [0-9a-f]{12} .* Top Layer of: \[localhost\/top:latest\]$/);
    assert.deepEqual(lines.slice(6), ['', '']);
  });

  it('--whatrequires branches where layers have siblings', async () => {
    const ctx = buildContext(env, 'ctx2', { Containerfile: 'FROM busybox\nRUN echo other > /o\n' });
    await env.ok(['build', '-q', '--network', 'none', '-t', 'side', ctx]);
    const r = await env.ok(['image', 'tree', '--whatrequires', 'busybox']);
    const layers = r.stdout.split('\n').slice(4).filter(Boolean);
    assert.equal(layers.length, 5, r.stdout);
    assert.match(layers[0]!, /^├── ID: .* Top Layer of: \[localhost\/busybox:latest\]$/);
    assert.match(layers[1]!, /^├── ID: [0-9a-f]{12} Size: +\S+$/);
    assert.match(layers[2]!, /^│   ├── ID: .* Top Layer of: \[localhost\/mid:latest localhost\/mid:other\]$/);
    assert.match(layers[3]!, /^│   └── ID: .* Top Layer of: \[localhost\/top:latest\]$/);
    assert.match(layers[4]!, /^└── ID: .* Top Layer of: \[localhost\/side:latest\]$/);
    await env.ok(['rmi', 'side']);
  });

  it('fails as podman does for an unknown image', async () => {
    const r = await env.berth(['image', 'tree', 'nonesuch']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'Error: nonesuch: image not known\n');
  });
});
