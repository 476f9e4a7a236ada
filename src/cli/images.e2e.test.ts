import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, busyboxRootfs, PROGRESS_LINE, tempDir } from '../testing/cli.js';

describe('image commands (CLI, end to end)', () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');
  const rootfs = join(tmp.path, 'busybox.tar');
  let id = '';

  before(async () => {
    await busyboxRootfs(rootfs);
    const r = await berth(root, ['import', '-q', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV A=1', '--change', 'LABEL team=berth', rootfs, 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    id = r.stdout.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
  });
  after(() => tmp.cleanup());

  it('lists the imported image under localhost/ like podman', async () => {
    const r = await berth(root, ['images']);
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = r.stdout.trim().split('\n');
    assert.match(header!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(row!, new RegExp(`^localhost/busybox\\s+latest\\s+${id.slice(7, 19)}\\s+.+ago\\s+[\\d.]+ [kM]?B$`));
  });

  it('prints IDs with -q, full IDs with --no-trunc, JSON and templates', async () => {
    assert.equal((await berth(root, ['images', '-q'])).stdout, `${id.slice(7, 19)}\n`);
    assert.equal((await berth(root, ['images', '-q', '--no-trunc'])).stdout, `${id}\n`);
    const json = JSON.parse((await berth(root, ['images', '--format', 'json'])).stdout) as { Id: string; RepoTags: string[]; Labels: Record<string, string> }[];
    assert.equal(json.length, 1);
    assert.equal(json[0]!.Id, id.slice(7));
    assert.deepEqual(json[0]!.RepoTags, ['localhost/busybox:latest']);
    assert.deepEqual(json[0]!.Labels, { team: 'berth' });
    assert.equal((await berth(root, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, 'localhost/busybox:latest\n');
  });

  it("inspects in podman's shape, with the config applied from --change", async () => {
    const r = await berth(root, ['image', 'inspect', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const [info] = JSON.parse(r.stdout) as Record<string, any>[];
    assert.equal(info!.Id, id.slice(7));
    assert.deepEqual(info!.Config.Cmd, ['/bin/sh']);
    assert.deepEqual(info!.Config.Env, ['A=1']);
    assert.equal(info!.Os, 'linux');
    assert.equal(info!.RootFS.Layers.length, 1);
    assert.equal(info!.History[0].comment, 'imported from tarball');
    assert.equal((await berth(root, ['inspect', '--format', '{{.Id}}', id.slice(7, 19)])).stdout, `${id.slice(7)}\n`);
  });

  it('tags, untags and removes names before the image', async () => {
    assert.equal((await berth(root, ['tag', 'busybox', 'other:1', 'quay.io/x/y:2'])).code, 0);
    const names = (await berth(root, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n').sort();
    assert.deepEqual(names, ['localhost/busybox:latest', 'localhost/other:1', 'quay.io/x/y:2']);
    assert.equal((await berth(root, ['untag', 'busybox', 'other:1'])).code, 0);
    const rmi = await berth(root, ['rmi', 'quay.io/x/y:2']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.equal(rmi.stdout, 'Untagged: quay.io/x/y:2\n');
    assert.equal((await berth(root, ['images', '-q'])).stdout, `${id.slice(7, 19)}\n`);
  });

  it('shows history newest first with the image ID on top', async () => {
    const r = await berth(root, ['history', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(lines[1]!, new RegExp(`^${id.slice(7, 19)}\\s+.*ADD file:.*imported from tarball$`));
  });

  it('filters by reference and dangling', async () => {
    assert.equal((await berth(root, ['images', '-q', '--filter', 'reference=busy*'])).stdout, `${id.slice(7, 19)}\n`);
    assert.equal((await berth(root, ['images', '-q', '--filter', 'reference=nothing'])).stdout, '');
    assert.equal((await berth(root, ['images', '-q', '--filter', 'dangling=true'])).stdout, '');
  });

  it('reports disk usage and system info', async () => {
    const df = await berth(root, ['system', 'df']);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s+0\s/);
    const info = JSON.parse((await berth(root, ['info', '--format', 'json'])).stdout) as { store: { graphRoot: string; imageStore: { number: number } } };
    assert.equal(info.store.graphRoot, root);
    assert.equal(info.store.imageStore.number, 1);
    const version = await berth(root, ['version']);
    assert.match(version.stdout, /^Client:\s+berth\nVersion:\s+\d+\.\d+\.\d+/);
  });

  it('saves and loads its own archives in both formats', async () => {
    for (const format of ['docker-archive', 'oci-archive']) {
      const archive = join(tmp.path, `${format}.tar`);
      const save = await berth(root, ['save', '--format', format, '-o', archive, 'busybox']);
      assert.equal(save.code, 0, save.stderr);
      const other = join(tmp.path, `store-${format}`);
      const load = await berth(other, ['load', '-q', '-i', archive]);
      assert.equal(load.code, 0, load.stderr);
      assert.equal(load.stdout, 'Loaded image: localhost/busybox:latest\n');
      assert.equal((await berth(other, ['images', '-q', '--no-trunc'])).stdout, `${id}\n`);
    }
  });

  it('saves several images into one archive or layout, each under its own name, a shared layer once; a bad blob leaves no archive', async () => {
    const several = join(tmp.path, 'store-several');
    const ids: string[] = [];
    for (const [name, cmd] of [
      ['first', 'CMD ["one"]'],
      ['second:2', 'CMD ["two"]'],
    ]) {
      const r = await berth(several, ['import', '-q', '--change', cmd!, rootfs, name!]);
      assert.equal(r.code, 0, r.stderr);
      ids.push(r.stdout.trim());
    }
    const listed = `localhost/first:latest ${ids[0]!.slice(7, 19)}\nlocalhost/second:2 ${ids[1]!.slice(7, 19)}\n`;
    for (const format of ['docker-archive', 'oci-archive', 'oci-dir']) {
      const out = join(tmp.path, `several-${format}`);
      const save = await berth(several, ['save', '--format', format, '-o', out, 'first', 'second:2']);
      assert.equal(save.code, 0, save.stderr);
      if (format === 'docker-archive') {
        const listing = spawnSync('tar', ['-tf', out], { encoding: 'utf8' })
          .stdout.split('\n')
          .filter((n) => n.endsWith('.tar'));
        assert.equal(listing.length, 1, 'the layer both images share is written once');
      }
      const into = join(tmp.path, `store-several-${format}`);
      const load = await berth(into, ['load', '-q', '-i', out]);
      assert.equal(load.code, 0, load.stderr);
      const images = await berth(into, ['images', '--sort', 'repository', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
      assert.equal(images.stdout, listed, format);
    }
    // A layer blob gone bad on disk: the save fails, and neither the archive nor a temp file is left beside it.
    // An imported layer is stored uncompressed: its blob is named by its diff ID.
    const diffIDs = JSON.parse((await berth(several, ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'first'])).stdout) as string[];
    const blob = join(several, 'blobs', 'sha256', diffIDs[0]!.slice(7));
    const bytes = readFileSync(blob);
    bytes[bytes.length - 700] = bytes[bytes.length - 700]! ^ 0xff;
    writeFileSync(blob, bytes);
    const dir = join(tmp.path, 'bad-save');
    mkdirSync(dir);
    const bad = await berth(several, ['save', '-o', join(dir, 'out.tar'), 'first', 'second:2']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: .*does not match its digest/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('loads from stdin, gzip-compressed', async () => {
    const { gzipSync } = await import('node:zlib');
    const archive = gzipSync(readFileSync(join(tmp.path, 'docker-archive.tar')));
    const other = join(tmp.path, 'store-gz');
    const load = await berth(other, ['load'], { input: archive });
    assert.equal(load.code, 0, load.stderr);
    assert.equal((await berth(other, ['images', '-q', '--no-trunc'])).stdout, `${id}\n`);
  });

  it('removes the image and its layers; prune removes dangling images', async () => {
    const other = join(tmp.path, 'store-rm');
    await berth(other, ['load', '-q', '-i', join(tmp.path, 'docker-archive.tar')]);
    const imp = await berth(other, ['import', '-q', rootfs]);
    assert.equal(imp.code, 0, imp.stderr);
    const prune = await berth(other, ['image', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    const rmi = await berth(other, ['rmi', 'busybox']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.match(rmi.stdout, /Untagged: localhost\/busybox:latest\nDeleted: [a-f0-9]{64}\n/);
    assert.equal((await berth(other, ['images', '-q'])).stdout, '');
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(readdirSync(join(other, 'layers')), []);
    assert.deepEqual(readdirSync(join(other, 'blobs', 'sha256')), []);
  });

  it('writes nothing when an import fails', async () => {
    const bad = join(tmp.path, 'bad.tar');
    writeFileSync(bad, Buffer.alloc(1000, 7));
    const other = join(tmp.path, 'store-bad');
    const r = await berth(other, ['import', bad, 'x']);
    assert.equal(r.code, 125);
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !PROGRESS_LINE.test(l)).length,
      1,
      r.stderr,
    );
    assert.match(r.stderr, /^Error: .*(tar|header)/m);
    assert.equal((await berth(other, ['images', '-q'])).stdout, '');
  });
});
