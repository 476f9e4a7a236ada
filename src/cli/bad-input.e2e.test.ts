import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { berth, busyboxRootfs, PROGRESS_LINE, tempDir, type RunResult } from '../testing/cli.js';
import { snapshotStore } from '../testing/snapshot.js';

async function tarOf(entries: { name: string; body?: string; type?: 'file' | 'symlink' | 'link' | 'directory'; linkname?: string }[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    pack.entry({ name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}), mode: 0o644 }, Buffer.from(e.body ?? '', 'latin1'));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** One line on stderr naming the problem, exit code 125, and the store exactly as before. */
function assertRefused(r: RunResult, before: string[], after: string[], pattern: RegExp): void {
  assert.equal(r.code, 125, `exit code: ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !PROGRESS_LINE.test(l));
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^Error: /);
  assert.match(lines[0]!, pattern);
  assert.deepEqual(after, before, 'the store changed');
}

describe('bad input is refused with one line, exit 125 and no change to the store', () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');
  let archive: Buffer;

  before(async () => {
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    assert.equal((await berth(root, ['import', '-q', rootfs, 'busybox'])).code, 0);
    const saved = join(tmp.path, 'saved.tar');
    assert.equal((await berth(root, ['save', '-o', saved, 'busybox'])).code, 0);
    archive = readFileSync(saved);
  });
  after(() => tmp.cleanup());

  async function refused(args: string[], pattern: RegExp, input?: Buffer): Promise<void> {
    const b = snapshotStore(root);
    const r = await berth(root, args, input ? { input } : {});
    assertRefused(r, b, snapshotStore(root), pattern);
  }

  it('a corrupt archive', async () => {
    const f = join(tmp.path, 'corrupt.tar');
    writeFileSync(f, Buffer.alloc(4096, 0x41));
    await refused(['load', '-i', f], /corrupt\.tar.*(not a valid tar|checksum)/);
  });

  it('a truncated archive', async () => {
    const f = join(tmp.path, 'truncated.tar');
    writeFileSync(f, archive.subarray(0, Math.floor(archive.length / 2)));
    await refused(['load', '-i', f], /truncated|missing|no manifest/);
  });

  it('a layer whose content does not match its digest', async () => {
    // Flip one byte inside the layer's busybox binary: the tar stays valid, the diff ID does not.
    const tampered = Buffer.from(archive);
    const at = tampered.indexOf(Buffer.from('BusyBox v'));
    assert.ok(at > 0);
    tampered[at] = 0x62;
    const f = join(tmp.path, 'tampered.tar');
    writeFileSync(f, tampered);
    // A fresh store: the layer must not be taken from the one already there.
    const other = join(tmp.path, 'store-tampered');
    const r = await berth(other, ['load', '-i', f]);
    assertRefused(r, [], snapshotStore(other).filter((l) => !l.startsWith('d ')), /digest|diff ID|does not match/);
  });

  for (const [what, entries] of [
    ['a ../ path', [{ name: '../evil', body: 'x' }]],
    ['a path through ../', [{ name: 'a/../../evil', body: 'x' }]],
    ['a write through a symlink', [{ name: 'link', type: 'symlink', linkname: '/etc' }, { name: 'link/evil', body: 'x' }]],
    ['a hard link out of the root', [{ name: 'hl', type: 'link', linkname: '../../../etc/passwd' }]],
  ] as const) {
    it(`a layer with ${what}`, async () => {
      const f = join(tmp.path, 'escape.tar');
      writeFileSync(f, await tarOf(entries as never));
      await refused(['import', f, 'evil'], /escape|outside|symlink|link/);
    });
  }

  it('an archive whose layer escapes the root, on a store that already has images', async () => {
    const layer = await tarOf([{ name: 'ok', body: 'fine' }, { name: '../evil', body: 'x' }]);
    const diffID = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffID] } }));
    const configHex = createHash('sha256').update(config).digest('hex');
    const archive = await tarOf([
      { name: 'layer.tar', body: layer.toString('latin1') },
      { name: `${configHex}.json`, body: config.toString() },
      { name: 'manifest.json', body: JSON.stringify([{ Config: `${configHex}.json`, RepoTags: ['evil:1'], Layers: ['layer.tar'] }]) },
    ]);
    const f = join(tmp.path, 'evil-archive.tar');
    writeFileSync(f, archive);
    await refused(['load', '-i', f], /escapes the layer root/);
  });

  it('unknown images', async () => {
    // rmi of an unknown image exits 1, as podman's does; still one line and no change.
    const unchanged = snapshotStore(root);
    const rmi = await berth(root, ['rmi', 'nothere']);
    assert.equal(rmi.code, 1);
    assert.equal(rmi.stderr, 'Error: nothere: image not known\n');
    assert.deepEqual(snapshotStore(root), unchanged);
    await refused(['image', 'inspect', 'nothere'], /nothere: image not known/);
    await refused(['save', '-o', join(tmp.path, 'x.tar'), 'nothere'], /nothere/);
    await refused(['tag', 'nothere', 'x'], /nothere/);
  });

  it('malformed references', async () => {
    await refused(['tag', 'busybox', 'Upper/Case'], /must be lowercase|invalid reference/);
    await refused(['tag', 'busybox', 'a:b:c'], /invalid reference/);
    await refused(['import', join(tmp.path, 'busybox.tar'), 'bad name'], /invalid reference/);
  });
});
