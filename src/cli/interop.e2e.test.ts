import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, busyboxRootfs, ok, podmanArgs, run, tempDir } from '../testing/cli.js';

/**
 * Interop with the real peers from apt: archives berth saves load into podman and run there;
 * archives podman saves load into berth with the same image ID and layers; OCI layouts pass
 * between berth and skopeo both ways.
 */
/**
 * podman's default nofile and nproc limits (1048576, and the host's) are refused here: without
 * CAP_SYS_RESOURCE crun may not set rlimits at or above this machine's hard limits, so ask for less.
 */
const RUN_QUIRKS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=4096:4096'];

describe('interop with podman and skopeo', () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');
  const podman = (args: string[]) => ok('podman', [...podmanArgs(tmp.path), ...args]);
  let berthId = '';
  let podmanId = '';
  let podmanLayers: string[] = [];

  before(async () => {
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    berthId = (await berth(root, ['import', '-q', '--change', 'CMD ["/bin/sh"]', rootfs, 'bb-berth'])).stdout.trim();
    assert.match(berthId, /^sha256:/);
    await podman(['import', '--change', 'CMD ["/bin/sh"]', rootfs, 'localhost/bb-podman:latest']);
    const inspect = JSON.parse((await podman(['image', 'inspect', 'localhost/bb-podman:latest'])).stdout) as { Id: string; RootFS: { Layers: string[] } }[];
    podmanId = inspect[0]!.Id;
    podmanLayers = inspect[0]!.RootFS.Layers;
  });
  after(async () => {
    await run('podman', [...podmanArgs(tmp.path), 'system', 'reset', '-f']);
    tmp.cleanup();
  });

  for (const format of ['docker-archive', 'oci-archive'] as const) {
    it(`an image berth saves as ${format} loads into podman and runs there`, async () => {
      const archive = join(tmp.path, `berth-${format}.tar`);
      const save = await berth(root, ['save', '--format', format, '-o', archive, 'bb-berth']);
      assert.equal(save.code, 0, save.stderr);
      await podman(['load', '-i', archive]);
      const id = (await podman(['image', 'inspect', '--format', '{{.Id}}', 'localhost/bb-berth:latest'])).stdout.trim();
      assert.equal(`sha256:${id}`, berthId);
      const out = await podman(['run', '--rm', '--network', 'none', ...RUN_QUIRKS, 'localhost/bb-berth:latest', 'sh', '-c', 'echo hello from $(uname -s)']);
      assert.equal(out.stdout, 'hello from Linux\n');
      await podman(['rmi', 'localhost/bb-berth:latest']);
    });

    it(`an image podman saves as ${format} loads into berth with the same ID and layers`, async () => {
      const archive = join(tmp.path, `podman-${format}.tar`);
      await podman(['save', '--format', format, '-o', archive, 'localhost/bb-podman:latest']);
      const other = join(tmp.path, `store-from-podman-${format}`);
      const load = await berth(other, ['load', '-i', archive]);
      assert.equal(load.code, 0, load.stderr);
      assert.match(load.stdout, /Loaded image: localhost\/bb-podman:latest/);
      const [info] = JSON.parse((await berth(other, ['image', 'inspect', 'bb-podman'])).stdout) as { Id: string; RootFS: { Layers: string[] } }[];
      assert.equal(info!.Id, podmanId);
      assert.deepEqual(info!.RootFS.Layers, podmanLayers);
    });
  }

  it('an OCI layout written by berth is read by skopeo, and one skopeo writes is read by berth', async () => {
    const layout = join(tmp.path, 'berth-layout');
    const save = await berth(root, ['save', '--format', 'oci-dir', '-o', layout, 'bb-berth']);
    assert.equal(save.code, 0, save.stderr);
    const copied = join(tmp.path, 'skopeo-layout');
    await ok('skopeo', ['copy', `oci:${layout}:localhost/bb-berth:latest`, `oci:${copied}:roundtrip`]);
    const inspect = JSON.parse((await ok('skopeo', ['inspect', '--config', `oci:${copied}:roundtrip`])).stdout) as { rootfs: { diff_ids: string[] } };
    assert.equal(inspect.rootfs.diff_ids.length, 1);
    // and back: skopeo's layout (ref name "roundtrip", a bare tag) loads into berth
    const other = join(tmp.path, 'store-from-skopeo');
    const load = await berth(other, ['load', '-i', copied]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal((await berth(other, ['images', '-q', '--no-trunc'])).stdout, `${berthId}\n`);
  });
});
