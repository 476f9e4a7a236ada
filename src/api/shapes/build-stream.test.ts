import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildStream, withLatest } from './build-stream.js';
import type { JsonMessage } from './progress-json.js';

const id = `sha256:${'e'.repeat(64)}`;
const step = `sha256:${'1'.repeat(64)}`;

describe('the classic builder’s stream', { timeout: 10_000 }, () => {
  test('steps, their images, RUN output; podman’s own lines left out; the end', () => {
    const out: JsonMessage[] = [];
    const s = buildStream((m) => out.push(m), false);
    s.onStep({ stage: '', step: 1, steps: 2, text: 'FROM busybox', state: 'running' });
    s.onStep({ stage: '', step: 1, steps: 2, text: 'FROM busybox', state: 'done', id: step });
    s.onStep({ stage: '', step: 2, steps: 2, text: 'RUN echo hi', state: 'running' });
    s.out('hi\n');
    s.out('COMMIT localhost/x:latest\n');
    s.onStep({ stage: '', step: 2, steps: 2, text: 'RUN echo hi', state: 'cached', id });
    s.out('Successfully tagged localhost/x:latest\n');
    s.finish(id, ['x', 'reg:5000/y:2']);
    assert.deepEqual(out, [
      { stream: 'Step 1/2 : FROM busybox\n' },
      { stream: ' ---> 111111111111\n' },
      { stream: 'Step 2/2 : RUN echo hi\n' },
      { stream: 'hi\n' },
      { stream: ' ---> Using cache\n ---> eeeeeeeeeeee\n' },
      { aux: { ID: id } },
      { stream: 'Successfully built eeeeeeeeeeee\n' },
      { stream: 'Successfully tagged x:latest\n' },
      { stream: 'Successfully tagged reg:5000/y:2\n' },
    ]);
  });

  test('quiet: only the aux ID and the ID line', () => {
    const out: JsonMessage[] = [];
    const s = buildStream((m) => out.push(m), true);
    s.onStep({ stage: '', step: 1, steps: 1, text: 'FROM busybox', state: 'running' });
    s.out('output\n');
    s.finish(id, ['x']);
    assert.deepEqual(out, [{ aux: { ID: id } }, { stream: `${id}\n` }]);
  });

  test('quiet and failed: the lines held back come out, for the error to follow', () => {
    const out: JsonMessage[] = [];
    const s = buildStream((m) => out.push(m), true);
    s.onStep({ stage: '', step: 1, steps: 1, text: 'RUN exit 3', state: 'running' });
    s.out('oops\n');
    assert.deepEqual(out, []);
    s.failed();
    assert.deepEqual(out, [{ stream: 'Step 1/1 : RUN exit 3\n' }, { stream: 'oops\n' }]);
  });

  test('names get :latest when they have no tag', () => {
    assert.equal(withLatest('x'), 'x:latest');
    assert.equal(withLatest('reg:5000/x'), 'reg:5000/x:latest');
    assert.equal(withLatest('x:1'), 'x:1');
    assert.equal(withLatest(`x@sha256:${'a'.repeat(64)}`), `x@sha256:${'a'.repeat(64)}`);
  });
});
