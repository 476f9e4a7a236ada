import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildContext, containerEnv, type ContainerEnv } from '../../testing/containers.js';

const context = (env: ContainerEnv, name: string, containerfile: string[]) => buildContext(env, name, { Containerfile: `${containerfile.join('\n')}\n` });

/**
 * A RUN that leaves its marker in a directory both stages share (a cache mount with one id), then
 * waits up to `tries` seconds for the other stage's marker and records whether it came: only stages
 * that run at the same time can both see each other's marker.
 */
function meet(me: string, other: string, id: string, tries: number): string {
  const script = `touch /sync/${me}; i=0; while [ ! -e /sync/${other} ] && [ $i -lt ${tries} ]; do sleep 1; i=$((i+1)); done; if [ -e /sync/${other} ]; then echo ${me}-saw-${other}; else echo ${me}-alone; fi > /${me}.txt; cat /${me}.txt`;
  return `RUN --mount=type=cache,id=${id},target=/sync sh -c '${script}'`;
}

const lastLine = (s: string) => s.trimEnd().split('\n').at(-1)!;

describe('berth build: stages side by side', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  before(async () => {
    env = await containerEnv();
  });
  after(() => env.cleanup());

  it('builds independent stages at the same time, each once, and the final stage after both', async () => {
    const dir = context(env, 'par', [
      'FROM busybox AS a',
      meet('a', 'b', 'par', 60),
      'FROM busybox AS b',
      meet('b', 'a', 'par', 60),
      'FROM busybox',
      'COPY --from=a /a.txt /a.txt',
      'COPY --from=b /b.txt /b.txt',
      'COPY --from=a /a.txt /again.txt',
    ]);
    const r = await env.ok(['build', '--jobs', '2', '-t', 'par', dir]);
    // Both saw the other's marker: the two RUNs overlapped.
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'par', 'cat', '/a.txt', '/b.txt', '/again.txt'])).stdout, 'a-saw-b\nb-saw-a\na-saw-b\n');
    // Every line of a stage carries its [N/M], and each stage ran once.
    assert.match(r.stdout, /^\[1\/3\] STEP 1\/2: FROM busybox AS a$/m);
    assert.match(r.stdout, /^\[2\/3\] STEP 2\/2: RUN --mount=type=cache,id=par/m);
    assert.match(r.stdout, /^\[1\/3\] a-saw-b$/m);
    assert.match(r.stdout, /^\[2\/3\] b-saw-a$/m);
    assert.match(r.stdout, /^\[3\/3\] STEP 4\/4: COPY --from=a \/a.txt \/again.txt$/m);
    assert.equal(r.stdout.match(/STEP 1\/2: FROM busybox AS a$/gm)?.length, 1);
    for (const line of r.stdout.trimEnd().split('\n').slice(0, -1)) {
      assert.match(line, /^\[[123]\/3\] |^COMMIT localhost\/par:latest$|^Successfully tagged localhost\/par:latest$/, `unprefixed line: ${line}`);
    }
    // The final stage starts only once both are done.
    const finalStart = r.stdout.indexOf('[3/3] STEP 1/4');
    assert.ok(finalStart > r.stdout.indexOf('[1/3] a-saw-b') && finalStart > r.stdout.indexOf('[2/3] b-saw-a'));
    assert.equal(lastLine(r.stdout).length, 64);
  });

  it("with --jobs 1 builds the stages one after the other, in file order, with podman's plain lines", async () => {
    const dir = context(env, 'seq', [
      'FROM busybox AS a',
      meet('a', 'b', 'seq', 2),
      'FROM busybox AS b',
      meet('b', 'a', 'seq', 2),
      'FROM busybox',
      'COPY --from=b /b.txt /b.txt',
      'COPY --from=a /a.txt /a.txt',
    ]);
    const r = await env.ok(['build', '--jobs', '1', '-t', 'seq', dir]);
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'seq', 'cat', '/a.txt', '/b.txt'])).stdout, 'a-alone\nb-saw-a\n');
    // Today's sequential output: STEP lines prefixed, RUN output and --> lines as they come.
    assert.match(r.stdout, /^\[1\/3\] STEP 2\/2: RUN .*\na-alone\n--> [0-9a-f]{11}\n\[2\/3\] STEP 1\/2: FROM busybox AS b$/m);
  });

  it('stops every stage when one fails, names the failing stage, step and exit code, and leaves nothing behind', async () => {
    const before = (await env.ok(['images', '-a', '-q', '--no-trunc'])).stdout;
    const dir = context(env, 'fail', [
      'FROM busybox AS slow',
      `RUN --mount=type=cache,id=fail,target=/sync sh -c 'echo slow-started; touch /sync/slow; sleep 120; echo never'`,
      'FROM busybox AS bad',
      `RUN --mount=type=cache,id=fail,target=/sync sh -c 'i=0; while [ ! -e /sync/slow ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done; exit 7'`,
      'FROM busybox',
      'COPY --from=slow /etc/passwd /p',
      'COPY --from=bad /etc/passwd /q',
    ]);
    const r = await env.berth(['build', '--jobs', '2', '-t', 'fail', dir]);
    assert.equal(r.code, 7);
    assert.match(r.stdout, /^\[1\/3\] slow-started$/m, 'the slow stage was running when the other failed');
    assert.doesNotMatch(r.stdout, /^\[1\/3\] never$|\[3\/3\]/m);
    assert.match(
      r.stderr,
      /^Error: stage bad \[2\/3\]: building at STEP "RUN --mount=type=cache,id=fail,target=\/sync sh -c .*exit 7'": while running runtime: exit status 7$/m,
    );
    // The slow stage's container is gone and no image was recorded.
    assert.equal((await env.ok(['ps', '-a', '-q'])).stdout, '');
    assert.equal((await env.ok(['images', '-a', '-q', '--no-trunc'])).stdout, before);
    assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes(env.root), 'no overlay left mounted');
  });
});
