import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !PROGRESS_LINE.test(l));
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
    assertRefused(
      r,
      [],
      snapshotStore(other).filter((l) => !l.startsWith('d ')),
      /digest|diff ID|does not match/,
    );
  });

  for (const [what, entries] of [
    ['a ../ path', [{ name: '../evil', body: 'x' }]],
    ['a path through ../', [{ name: 'a/../../evil', body: 'x' }]],
    [
      'a write through a symlink',
      [
        { name: 'link', type: 'symlink', linkname: '/etc' },
        { name: 'link/evil', body: 'x' },
      ],
    ],
    ['a hard link out of the root', [{ name: 'hl', type: 'link', linkname: '../../../etc/passwd' }]],
  ] as const) {
    it(`a layer with ${what}`, async () => {
      const f = join(tmp.path, 'escape.tar');
      writeFileSync(f, await tarOf(entries as never));
      await refused(['import', f, 'evil'], /escape|outside|symlink|link/);
    });
  }

  it('an archive whose layer escapes the root, on a store that already has images', async () => {
    const layer = await tarOf([
      { name: 'ok', body: 'fine' },
      { name: '../evil', body: 'x' },
    ]);
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

describe('usage errors and bad values are refused as podman refuses them, before anything is made', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');

  before(async () => {
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    assert.equal((await berth(root, ['import', '-q', rootfs, 'busybox'])).code, 0);
  });
  after(() => tmp.cleanup());

  async function refused(args: string[], pattern: RegExp): Promise<void> {
    const b = snapshotStore(root);
    assertRefused(await berth(root, args), b, snapshotStore(root), pattern);
  }

  /** podman's exact stderr (cobra's words) and exit code 125, with nothing run. */
  async function usage(args: string[], stderr: string): Promise<void> {
    const b = snapshotStore(root);
    const r = await berth(root, args);
    assert.equal(r.stderr, stderr, `berth ${args.join(' ')}`);
    assert.equal(r.code, 125, `berth ${args.join(' ')}: exit code`);
    assert.deepEqual(snapshotStore(root), b, 'the store changed');
  }

  it('unknown flags and commands, at the top and in subcommands', async () => {
    await usage(['--x'], "Error: unknown flag: --x\nSee 'berth --help'\n");
    await usage(['ps', '--x'], "Error: unknown flag: --x\nSee 'berth ps --help'\n");
    await usage(['ps', '-X'], "Error: unknown shorthand flag: 'X' in -X\nSee 'berth ps --help'\n");
    await usage(['container', 'ps', '--bogus'], "Error: unknown flag: --bogus\nSee 'berth container ps --help'\n");
    await usage(['foo'], "Error: unrecognized command `berth foo`\nTry 'berth --help' for more information\n");
    await usage(['bad', '--invalid'], "Error: unknown flag: --invalid\nSee 'berth --help'\n");
    await usage(['run', '-h'], "Error: flag needs an argument: 'h' in -h\nSee 'berth run --help'\n");
    await usage(['container', 'foo'], "Error: unrecognized command `berth container foo`\nTry 'berth container --help' for more information\n");
    await usage(['image', 'foo'], "Error: unrecognized command `berth image foo`\nTry 'berth image --help' for more information\n");
  });

  it('missing flag values and the wrong number of arguments', async () => {
    await usage(['rm', '--time'], "Error: flag needs an argument: --time\nSee 'berth rm --help'\n");
    await usage(['run', '-e'], "Error: flag needs an argument: 'e' in -e\nSee 'berth run --help'\n");
    await usage(['images', 'a', 'b'], 'Error: accepts at most 1 arg(s), received 2\n');
    await usage(['rename', 'a'], 'Error: accepts 2 arg(s), received 1\n');
    await usage(['create'], 'Error: requires at least 1 arg(s), only received 0\n');
    await usage(['ps', 'x'], 'Error: `berth ps` takes no arguments\n');
    const group = await berth(root, ['container']);
    assert.equal(group.code, 125);
    assert.match(group.stderr, /\nError: missing command 'berth container COMMAND'\n$/);
  });

  it('kill with an unknown signal, before looking for the container', async () => {
    await refused(['kill', '-s', 'FOO', 'nothere'], /^Error: invalid signal: FOO$/);
    await refused(['kill', '--signal=0', 'nothere'], /^Error: invalid signal: 0$/);
    await refused(['kill', '-s', '65', 'nothere'], /^Error: valid signals are 1 through 64$/);
    // podman drops one leading dash before parsing, and names what is left.
    await refused(['kill', '-s', '-SIGBADSIG', 'nothere'], /^Error: invalid signal: SIGBADSIG$/);
    await refused(['kill', '-s', '-65', 'nothere'], /^Error: valid signals are 1 through 64$/);
    await refused(['create', '--stop-signal=99', 'busybox'], /^Error: valid signals are 1 through 64$/);
    // pod kill too, before looking for the pod.
    await refused(['pod', 'kill', '-s', '0', 'nosuchpod'], /^Error: invalid signal: 0$/);
    await refused(['pod', 'kill', '-s', 'FOO', 'nosuchpod'], /^Error: invalid signal: FOO$/);
    // A good signal gets as far as the lookup.
    await refused(['kill', '-s', 'sigrtmin+3', 'nothere'], /no container with name or ID "nothere" found/);
  });

  it('create: values that would add lines to /etc/hosts or fail only at start', async () => {
    await refused(['create', '--hostname', 'a\nb', 'busybox', 'true'], /^Error: invalid hostname "a\\nb": /);
    await refused(['create', '--hostname', 'host\n6.6.6.6 registry.example', 'busybox', 'true'], /^Error: invalid hostname /);
    await refused(['create', '--hostname', 'a b', 'busybox', 'true'], /^Error: invalid hostname "a b": /);
    await refused(['create', '--hostname', 'a'.repeat(65), 'busybox', 'true'], /must be at most 64 characters/);
    // Checked before the image is looked for (or pulled).
    await refused(['create', '--hostname', 'a\nb', 'no-such-image', 'true'], /^Error: invalid hostname/);
    await refused(['create', '-e', '=x', 'busybox', 'true'], /^Error: invalid environment variable: "=x"$/);
    await refused(['create', '-w', 'rel', 'busybox', 'true'], /^Error: invalid workdir "rel", must be an absolute path$/);
    await refused(['create', '--user', 'a:b:c', 'busybox', 'true'], /^Error: invalid user "a:b:c"/);
    await refused(['create', '--stop-signal', 'FOO', 'busybox', 'true'], /^Error: invalid signal: FOO$/);
    await refused(['create', '-v', `${tmp.path}:/`, 'busybox', 'true'], /destination can't be '\/'$/);
    await refused(['create', '-v', '/a/..', 'busybox', 'true'], /destination can't be '\/'$/);
    assert.equal((await berth(root, ['ps', '-aq'])).stdout, '', 'no container was created');
  });

  it('build: ENV with no arguments, a VOLUME over the root, an unknown STOPSIGNAL', async () => {
    for (const [line, pattern] of [
      ['ENV', /^Error: ENV requires at least one argument \(line 2\)$/],
      ['VOLUME /data/..', /^Error: VOLUME "\/data\/\.\.": destination can't be '\/' \(line 2\)$/],
      ['STOPSIGNAL FOO', /^Error: Invalid signal: FOO \(line 2\)$/],
    ] as const) {
      const ctx = join(tmp.path, 'ctx');
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, 'Containerfile'), `FROM busybox\n${line}\n`);
      const b = snapshotStore(root);
      const r = await berth(root, ['build', '-q', '-t', 'bad', ctx]);
      assertRefused(r, b, snapshotStore(root), pattern);
    }
  });

  it('--runroot naming a regular file', async () => {
    const file = join(tmp.path, 'not-a-dir');
    writeFileSync(file, '');
    await refused(['--runroot', file, 'ps'], new RegExp(`^Error: mkdir ${file}: not a directory$`));
  });
});
