import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { berthBin, ok, run, type RunResult } from '../testing/cli.js';
import { buildContext, containerEnv, type ContainerEnv } from '../testing/containers.js';

const NONE = ['--network', 'none'];

/** One argument for sh, quoted whole: the command line `script` hands to the shell is ours alone. */
const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** berth run with a terminal on stdin (util-linux `script` makes one), `answer` typed into it. */
function inTerminal(env: ContainerEnv, args: string[], answer: string): Promise<RunResult> {
  const argv = [berthBin, '--root', env.root, '--runroot', env.runRoot, ...args];
  return run('script', ['-qec', argv.map(shellQuote).join(' '), '/dev/null'], { input: answer });
}

const lines = (r: RunResult) => r.stdout.split('\n').filter(Boolean);

/** A one-file tarball: each import of it makes a new image without a name (a dangling one). */
async function danglingArchive(env: ContainerEnv): Promise<string> {
  const dir = join(env.dir, 'dangling');
  mkdirSync(dir);
  writeFileSync(join(dir, 'file'), 'dangling\n');
  const tar = join(env.dir, 'dangling.tar');
  await ok('tar', ['-C', dir, '-cf', tar, '.']);
  return tar;
}

describe('prunes ask first, as podman does', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  let danglingTar = '';

  /** What each prune could take: a dangling image, a stopped container, an unused volume. */
  async function state() {
    return {
      images: lines(await env.ok(['images', '-a', '-q'])).sort(),
      containers: lines(await env.ok(['ps', '-a', '-q'])).sort(),
      volumes: lines(await env.ok(['volume', 'ls', '-q'])).sort(),
    };
  }

  before(async () => {
    env = await containerEnv();
    danglingTar = await danglingArchive(env);
  });
  after(() => env?.cleanup());

  beforeEach(async () => {
    await env.ok(['import', '-q', danglingTar]);
    await env.ok(['create', '--name', 'stopped', ...NONE, 'busybox', 'true']);
    await env.ok(['volume', 'create', 'unused']);
  });

  for (const [prune, what] of [
    [['image', 'prune'], 'images'],
    [['container', 'prune'], 'containers'],
    [['volume', 'prune'], 'volumes'],
  ] as const) {
    it(`${prune.join(' ')}: refused without a terminal and without -f, nothing removed; -f removes`, async () => {
      const before = await state();
      const refused = await env.berth([...prune]);
      assert.equal(refused.code, 125);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
      assert.match(refused.stderr, /^Error: .*stdin is not a terminal.*-f/);
      assert.deepEqual(await state(), before);

      const forced = await env.ok([...prune, '-f']);
      assert.ok(lines(forced).length >= 1, forced.stdout);
      assert.ok((await state())[what].length < before[what].length, `${what} pruned`);
      await env.ok(['rm', '-a', '-f']);
      await env.ok(['volume', 'rm', '-a']);
      await env.ok(['image', 'prune', '-f']);
    });
  }

  it("with a terminal: podman's warning; n keeps everything, y removes", async () => {
    const cases = [
      { args: ['image', 'prune'], warning: 'WARNING! This command removes all dangling images.', what: 'images' },
      { args: ['container', 'prune'], warning: 'WARNING! This will remove all non running containers.', what: 'containers' },
      {
        args: ['volume', 'prune'],
        warning: 'WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:',
        what: 'volumes',
      },
    ] as const;
    for (const c of cases) {
      const before = await state();
      for (const answer of ['n\n', 'whatever\n', '']) {
        const kept = await inTerminal(env, [...c.args], answer);
        assert.equal(kept.code, 0, kept.stdout);
        assert.ok(kept.stdout.includes(c.warning), kept.stdout);
        assert.match(kept.stdout, /Are you sure you want to continue\? \[y\/N\] /);
        assert.deepEqual(await state(), before, `${c.args.join(' ')} answered ${JSON.stringify(answer)}`);
      }
      const removed = await inTerminal(env, [...c.args], 'y\n');
      assert.equal(removed.code, 0, removed.stdout);
      assert.ok((await state())[c.what].length < before[c.what].length, `${c.args.join(' ')} answered y`);
    }
    // volume prune lists what it will remove before asking.
    await env.ok(['volume', 'create', 'listed']);
    const listed = await inTerminal(env, ['volume', 'prune'], 'N\n');
    assert.match(listed.stdout, /will be removed:\r?\nlisted\r?\nAre you sure/);
    assert.ok((await state()).volumes.includes('listed'));
    assert.match((await inTerminal(env, ['volume', 'prune'], 'YES\n')).stdout, /^listed\r?$/m);
    assert.deepEqual((await state()).volumes, []);
  });

  it('builder prune asks too, and keeps the cache unless told', async () => {
    const ctx = buildContext(env, 'cached', { Containerfile: 'FROM busybox\nRUN echo cached > /f\nLABEL step=last\n' });
    await env.ok(['build', ctx]);
    const before = await state();
    const refused = await env.berth(['builder', 'prune']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /^Error: builder prune .*not a terminal/);
    const kept = await inTerminal(env, ['builder', 'prune'], 'n\n');
    assert.match(kept.stdout, /WARNING! This will remove all dangling build cache\./);
    assert.deepEqual(await state(), before);
    assert.match((await env.ok(['build', ctx])).stdout, /Using cache/);
    const removed = await inTerminal(env, ['builder', 'prune'], 'y\n');
    assert.equal(removed.code, 0);
    assert.ok((await state()).images.length < before.images.length);
    await env.ok(['image', 'prune', '-f']);
  });
});

describe('system prune and system reset', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  let danglingTar = '';
  before(async () => {
    env = await containerEnv();
    danglingTar = await danglingArchive(env);
  });
  after(() => env?.cleanup());

  it('system prune -f removes stopped containers and dangling images, never running containers, tagged images or (without --volumes) volumes', async () => {
    const dangling = (await env.ok(['import', '-q', danglingTar])).stdout.trim();
    const busybox = (await env.ok(['images', '-q', '--no-trunc', 'busybox'])).stdout.trim();
    const stopped = (await env.ok(['create', ...NONE, 'busybox', 'true'])).stdout.trim();
    const running = (await env.ok(['run', '-d', ...NONE, 'busybox', 'sleep', '300'])).stdout.trim();
    await env.ok(['volume', 'create', 'unused']);

    const refused = await env.berth(['system', 'prune']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /^Error: system prune .*not a terminal/);
    const kept = await inTerminal(env, ['system', 'prune', '--volumes'], 'n\n');
    assert.ok(
      kept.stdout.includes(
        'WARNING! This command removes:\r\n\t- all stopped containers\r\n\t- all networks not used by at least one container\r\n\t- all volumes not used by at least one container\r\n\t- all dangling images\r\n\t- all dangling build cache',
      ),
      kept.stdout,
    );
    assert.equal(lines(await env.ok(['ps', '-a', '-q', '--no-trunc'])).length, 2);

    const pruned = await env.ok(['system', 'prune', '-f']);
    const [total, ...sections] = pruned.stdout.trimEnd().split('\n').reverse();
    assert.deepEqual(sections.reverse(), ['Deleted Containers', stopped, 'Deleted Images', dangling.slice(7)]);
    assert.match(total!, /^Total reclaimed space: [\d.]+k?B$/);
    assert.deepEqual(lines(await env.ok(['ps', '-a', '-q', '--no-trunc'])), [running]);
    assert.deepEqual(lines(await env.ok(['images', '-a', '-q', '--no-trunc'])), [busybox]);
    assert.deepEqual(lines(await env.ok(['volume', 'ls', '-q'])), ['unused']);

    // --volumes takes the unused volume; -a every image no container uses (busybox is in use).
    const all = await env.ok(['system', 'prune', '-a', '--volumes', '-f']);
    assert.match(all.stdout, /^Deleted Volumes\nunused\nTotal reclaimed space/);
    assert.deepEqual(lines(await env.ok(['images', '-a', '-q', '--no-trunc'])), [busybox]);
    assert.deepEqual(lines(await env.ok(['ps', '-a', '-q', '--no-trunc'])), [running]);
    await env.ok(['rm', '-f', running]);
  });

  it('system reset asks, then removes every container (running ones stopped), image and volume, and nothing outside the store', async () => {
    await env.ok(['import', '-q', danglingTar, 'extra']);
    await env.ok(['run', '-d', '--name', 'alive', ...NONE, '-v', 'data:/data', 'busybox', 'sleep', '300']);
    await env.ok(['create', '--name', 'idle', ...NONE, 'busybox', 'true']);
    // Something of the user's beside the store's files, and a registry's storage inside the root.
    const mine = join(env.dir, 'keep-me');
    writeFileSync(mine, 'mine\n');
    mkdirSync(join(env.root, 'registry'), { recursive: true });
    writeFileSync(join(env.root, 'registry', 'keep'), 'x');

    const refused = await env.berth(['system', 'reset']);
    assert.equal(refused.code, 125);
    const kept = await inTerminal(env, ['system', 'reset'], 'n\n');
    assert.match(kept.stdout, /WARNING! This will remove:\r\n {8}- all containers\r\n/);
    assert.equal(lines(await env.ok(['ps', '-a', '-q'])).length, 2);

    const reset = await env.ok(['system', 'reset', '-f']);
    assert.equal(reset.stdout, '');
    assert.deepEqual(lines(await env.ok(['ps', '-a', '-q'])), []);
    assert.deepEqual(lines(await env.ok(['images', '-a', '-q'])), []);
    assert.deepEqual(lines(await env.ok(['volume', 'ls', '-q'])), []);
    assert.deepEqual(lines(await env.ok(['ps', '-a', '-q'])), []);
    assert.ok(existsSync(mine));
    assert.ok(existsSync(join(env.root, 'registry', 'keep')));
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(readdirSync(join(env.root, 'layers')), []);
    assert.deepEqual(readdirSync(join(env.root, 'blobs', 'sha256')), []);
    assert.deepEqual(readdirSync(join(env.root, 'l')), []);
    // The store still works.
    await env.ok(['import', '-q', danglingTar, 'again']);
    assert.equal(lines(await env.ok(['images', '-q'])).length, 1);
  });
});
