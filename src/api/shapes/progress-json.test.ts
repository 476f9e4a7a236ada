import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decimalSize, errorMessage, progressBar, pullProgress, pushProgress, type JsonMessage } from './progress-json.js';

const layer = `sha256:${'ab'.repeat(32)}`;
const other = `sha256:${'cd'.repeat(32)}`;

describe('Docker progress messages', { timeout: 10_000 }, () => {
  test('a pull: fs layer, downloading with current and total, complete; a layer held already', () => {
    const out: JsonMessage[] = [];
    const sink = pullProgress((m) => out.push(m));
    sink({ type: 'blob', digest: layer, size: 2_150_000, state: 'start' });
    sink({ type: 'bytes', digest: layer, bytes: 1_050_000 });
    sink({ type: 'blob', digest: layer, size: 2_150_000, state: 'done' });
    sink({ type: 'blob', digest: other, size: 10, state: 'skipped' });
    sink({ type: 'config', digest: other });
    sink({ type: 'manifest' });
    const id = 'abababababab';
    assert.deepEqual(out[0], { status: 'Pulling fs layer', progressDetail: {}, id });
    assert.equal(out[1]!.status, 'Downloading');
    assert.deepEqual(out[1]!.progressDetail, { current: 1_050_000, total: 2_150_000 });
    assert.match(out[1]!.progress!, /^\[=+> +\] {2}1\.05MB\/2\.15MB$/);
    assert.deepEqual(
      out.slice(2).map((m) => [m.status, m.id]),
      [
        ['Download complete', id],
        ['Pull complete', id],
        ['Already exists', 'cdcdcdcdcdcd'],
      ],
    );
  });

  test('a push: preparing, pushing, pushed; a layer the registry has', () => {
    const out: JsonMessage[] = [];
    const sink = pushProgress((m) => out.push(m));
    sink({ type: 'blob', digest: layer, size: 100, state: 'start' });
    sink({ type: 'bytes', digest: layer, bytes: 100 });
    sink({ type: 'blob', digest: layer, size: 100, state: 'done' });
    sink({ type: 'blob', digest: other, size: 100, state: 'skipped' });
    assert.deepEqual(
      out.map((m) => m.status),
      ['Preparing', 'Pushing', 'Pushed', 'Layer already exists'],
    );
  });

  test('sizes and bars as Go prints them', () => {
    assert.equal(decimalSize(0), '0B');
    assert.equal(decimalSize(999), '999B');
    assert.equal(decimalSize(2_150_000), '2.15MB');
    assert.equal(decimalSize(1_500), '1.5kB');
    assert.equal(progressBar(10, 10).indexOf(']'), progressBar(0, 10).indexOf(']'));
    assert.match(progressBar(10, 10), /^\[={50}>\]/);
    assert.equal(progressBar(5, 0), '  5B');
  });

  test('an error mid-stream, with a code when there is one', () => {
    assert.deepEqual(errorMessage('boom'), { errorDetail: { message: 'boom' }, error: 'boom' });
    assert.deepEqual(errorMessage('failed', 3), { errorDetail: { message: 'failed', code: 3 }, error: 'failed' });
  });
});
