import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContext, containerEnv, type ContainerEnv } from '../../testing/containers.js';

const context = (env: ContainerEnv, name: string, containerfile: string[]) => buildContext(env, name, { Containerfile: `${containerfile.join('\n')}\n` });

/** The 11-character IDs of the images a build's steps made or reused, in order (`--> ID` lines). */
const stepIds = (stdout: string) => [...stdout.matchAll(/^--> ([0-9a-f]{11})$/gm)].map((m) => m[1]!);

async function allImages(env: ContainerEnv): Promise<string[]> {
  return (await env.ok(['images', '-a', '-q', '--no-trunc'])).stdout
    .split('\n')
    .filter(Boolean)
    .map((i) => i.replace(/^sha256:/, ''));
}

/**
 * The store holds up: every image inspects, the tagged one runs with its files, and saving it reads
 * every one of its layer blobs and its config back.
 */
async function checkStore(env: ContainerEnv, tagged: string, expected: string): Promise<void> {
  for (const id of await allImages(env)) await env.ok(['image', 'inspect', id]);
  assert.equal((await env.ok(['run', '--rm', '--network', 'none', tagged, 'cat', '/one', '/two'])).stdout, expected);
  await env.ok(['save', '-o', join(env.dir, `${tagged}-${Date.now()}.tar`), tagged]);
}

const KEPT = ['FROM busybox', 'RUN echo one | tee /one', 'ENV X=1', 'RUN echo two | tee /two'];
const GONE = ['FROM busybox', 'RUN echo gone | tee /gone', 'LABEL step=last'];

describe('build cache pruning', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  before(async () => {
    env = await containerEnv();
  });
  after(() => env.cleanup());

  it('builder prune removes the cache’s intermediate images but none a tagged image was built on; -a forgets every step', async () => {
    const kept = await env.ok(['build', '-t', 'kept', context(env, 'kept', KEPT)]);
    const keptSteps = stepIds(kept.stdout);
    assert.equal(keptSteps.length, 3);
    const gone = await env.ok(['build', context(env, 'gone', GONE)]);
    const goneSteps = stepIds(gone.stdout);
    assert.equal(goneSteps.length, 2);
    const busybox = (await env.ok(['images', '-q', '--no-trunc', 'busybox'])).stdout.trim().replace(/^sha256:/, '');

    const pruned = await env.ok(['builder', 'prune', '-f']);
    const deleted = pruned.stdout.split('\n').filter(Boolean);
    assert.deepEqual(deleted.map((d) => d.slice(0, 11)).sort(), [...goneSteps].sort(), 'exactly the untagged build’s two images');
    const left = await allImages(env);
    assert.deepEqual(
      left.map((i) => i.slice(0, 11)).sort(),
      [busybox.slice(0, 11), ...keptSteps].sort(),
      'the tagged image, the images it was built on, its base',
    );
    await checkStore(env, 'kept', 'one\ntwo\n');

    // The pruned build runs its steps again; the tagged one still comes from the cache.
    const again = await env.ok(['build', context(env, 'gone', GONE)]);
    assert.match(again.stdout, /^gone$/m);
    assert.doesNotMatch(again.stdout, /Using cache/);
    const keptAgain = await env.ok(['build', '-t', 'kept', context(env, 'kept', KEPT)]);
    assert.equal(keptAgain.stdout.match(/^--> Using cache/gm)?.length, 3);

    // -a: every step forgotten, the images a tagged image needs still there.
    await env.ok(['builder', 'prune', '-a', '-f']);
    const afterAll = await allImages(env);
    for (const step of keptSteps)
      assert.ok(
        afterAll.some((i) => i.startsWith(step)),
        `step image ${step} stays`,
      );
    assert.ok(!afterAll.some((i) => i.startsWith(stepIds(again.stdout).at(-1)!)));
    await checkStore(env, 'kept', 'one\ntwo\n');
    const rebuilt = await env.ok(['build', '-t', 'kept', context(env, 'kept', KEPT)]);
    assert.doesNotMatch(rebuilt.stdout, /Using cache/);
    assert.match(rebuilt.stdout, /^one$/m);
    await checkStore(env, 'kept', 'one\ntwo\n');
  });

  it('image prune removes untagged builds and their cache entries, sparing what a tagged image was built on', async () => {
    const k2 = ['FROM busybox', 'RUN echo one > /one && echo two > /two', 'CMD ["sh"]'];
    const built = await env.ok(['build', '-t', 'k2', context(env, 'k2', k2)]);
    const k2Steps = stepIds(built.stdout);
    const scrap = await env.ok(['build', context(env, 'scrap', ['FROM busybox', 'RUN echo scrap | tee /scrap'])]);
    const scrapId = stepIds(scrap.stdout).at(-1)!;

    const pruned = (await env.ok(['image', 'prune', '-f'])).stdout;
    assert.match(pruned, new RegExp(`^${scrapId}`, 'm'));
    const left = await allImages(env);
    for (const step of k2Steps)
      assert.ok(
        left.some((i) => i.startsWith(step)),
        `k2's step image ${step} stays`,
      );
    assert.ok(!left.some((i) => i.startsWith(scrapId)));
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'k2', 'cat', '/one', '/two'])).stdout, 'one\ntwo\n');
    // Its cache entry went with it: the step runs again.
    const again = await env.ok(['build', context(env, 'scrap', ['FROM busybox', 'RUN echo scrap | tee /scrap'])]);
    assert.match(again.stdout, /^scrap$/m);
    assert.doesNotMatch(again.stdout, /Using cache/);

    // Once nothing is tagged but busybox, everything built goes, layers included.
    for (const name of ['k2', 'kept']) await env.ok(['rmi', name]);
    await env.ok(['image', 'prune', '-f']);
    const busybox = (await env.ok(['images', '-q', '--no-trunc', 'busybox'])).stdout.trim().replace(/^sha256:/, '');
    assert.deepEqual(await allImages(env), [busybox]);
    assert.equal(readdirSync(join(env.root, 'layers')).length, 1, 'only busybox’s layer is left');
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'ok'])).stdout, 'ok\n');
  });
});
