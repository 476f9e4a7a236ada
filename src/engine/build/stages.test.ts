import assert from 'node:assert/strict';
import { it } from 'node:test';
import { planBuild } from './stages.js';
import { applyMetadata, parseDuration } from './metadata.js';
import { parseDockerfile } from '../../dockerfile/index.js';

const DF = `ARG BASE=busybox
ARG TAG
FROM $BASE:\${TAG:-latest} AS deps
RUN true
FROM scratch AS unused
FROM deps AS build
COPY --from=0 /a /a
FROM busybox AS tools
FROM busybox
COPY --from=build /a /a
`;

it('plans stages: global ARGs expand FROM, the target needs only its dependencies', () => {
  const plan = planBuild(DF, { buildArgs: new Map([['TAG', '1.36']]) });
  assert.deepEqual(
    plan.stages.map((s) => [s.name, s.base]),
    [
      ['deps', 'busybox:1.36'],
      ['unused', 'scratch'],
      ['build', 'deps'],
      ['tools', 'busybox'],
      [undefined, 'busybox'],
    ],
  );
  assert.equal(plan.target.index, 4);
  assert.deepEqual(
    plan.needed.map((s) => s.index),
    [0, 2, 4],
  );
  const target = planBuild(DF, { buildArgs: new Map(), target: 'DEPS' });
  assert.equal(target.stages[0]!.base, 'busybox:latest');
  assert.deepEqual(
    target.needed.map((s) => s.index),
    [0],
  );
  assert.throws(() => planBuild(DF, { buildArgs: new Map(), target: 'nope' }), /target "nope" was not found/);
  assert.throws(() => planBuild('RUN true\nFROM busybox\n', { buildArgs: new Map() }), /before the first FROM/);
  assert.throws(() => planBuild('FROM busybox AS a\nFROM busybox AS A\n', { buildArgs: new Map() }), /duplicate stage name/);
  assert.throws(() => planBuild('FROM busybox\nRUN true\nFOO bar\n', { buildArgs: new Map() }), /unknown instruction: FOO \(line 3\)/);
});

it('applies metadata instructions as docker does', () => {
  const ins = (line: string) => parseDockerfile(line).instructions[0]!;
  const id = (w: string) => w.replace(/^"(.*)"$/, '$1');
  const words = (w: string) => w.split(' ');
  const stage = { cmdSet: false };
  let { config } = applyMetadata({ Cmd: ['sh'] }, ins('ENTRYPOINT ["/bin/app"]'), id, words, stage);
  assert.equal(config.Cmd, null, 'ENTRYPOINT drops the base image’s CMD');
  ({ config } = applyMetadata(config, ins('CMD echo help'), id, words, stage));
  assert.deepEqual(config.Cmd, ['/bin/sh', '-c', 'echo help']);
  ({ config } = applyMetadata(config, ins('ENTRYPOINT ["/bin/other"]'), id, words, stage));
  assert.deepEqual(config.Cmd, ['/bin/sh', '-c', 'echo help'], 'a CMD of this stage stays');
  ({ config } = applyMetadata(config, ins('SHELL ["/bin/bash", "-ec"]'), id, words, stage));
  ({ config } = applyMetadata(config, ins('CMD run it'), id, words, stage));
  assert.deepEqual(config.Cmd, ['/bin/bash', '-ec', 'run it']);
  ({ config } = applyMetadata({ WorkingDir: '/a' }, ins('WORKDIR b/../c/'), id, words, stage));
  assert.equal(config.WorkingDir, '/a/c');
  const hc = applyMetadata({}, ins('HEALTHCHECK --interval=1m30s --retries=3 CMD curl -f http://x/'), id, words, stage).config;
  assert.deepEqual(hc.Healthcheck, { Test: ['CMD-SHELL', 'curl -f http://x/'], Interval: 90e9, Retries: 3 });
  const ob = applyMetadata({}, ins('ONBUILD RUN echo hi'), id, words, stage).config;
  assert.deepEqual(ob.OnBuild, ['RUN echo hi']);
  assert.throws(() => applyMetadata({}, ins('EXPOSE abc'), id, words, stage), /invalid port/);
  assert.equal(parseDuration('500ms'), 5e8);
  assert.throws(() => parseDuration('5x'), /invalid duration/);
});

it('finds what each stage waits for, and whether any two needed stages are independent', async () => {
  const { stageDeps, hasIndependentStages } = await import('./stages.js');
  const df = [
    'FROM busybox AS a',
    'FROM busybox AS b',
    'RUN --mount=type=bind,from=a,target=/a true',
    'FROM busybox AS c',
    'FROM a AS d',
    'COPY --from=c /x /x',
    'COPY --from=b /y /y',
    'COPY --from=c /z /z',
    'COPY --from=alpine /w /w',
  ].join('\n');
  const plan = planBuild(df, { buildArgs: new Map() });
  assert.deepEqual(
    plan.stages.map((s) => stageDeps(plan.stages, s)),
    [[], [0], [], [0, 1, 2]],
  );
  assert.deepEqual(
    plan.needed.map((s) => s.index),
    [0, 1, 2, 3],
    'RUN --mount from= makes a stage needed, each stage once',
  );
  // c is independent of a and b; a chain is not.
  assert.equal(hasIndependentStages(plan.stages, plan.needed), true);
  const chain = planBuild('FROM busybox AS a\nFROM a AS b\nFROM scratch\nCOPY --from=b /x /x\n', { buildArgs: new Map() });
  assert.equal(hasIndependentStages(chain.stages, chain.needed), false);
});
