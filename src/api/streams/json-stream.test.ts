import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import { BerthError } from '../../util/errors.js';
import type { ApiEnv } from '../context.js';
import { errorResponse } from '../errors.js';
import { jsonStream } from './json-stream.js';

function app(work: (emit: (m: object) => void) => Promise<void>) {
  const a = new Hono<ApiEnv>();
  a.onError((e, c) => {
    const { status, message } = errorResponse(e);
    return c.json({ message }, status as 404);
  });
  a.get('/', (c) => jsonStream(c, work, (e) => (e instanceof BerthError && e.code === 'BUILD_FAILED' ? e.exitCode : undefined)));
  return a;
}

describe('streamed JSON answers', { timeout: 10_000 }, () => {
  test('messages as lines, in order, as the work emits them', async () => {
    const res = await app(async (emit) => {
      emit({ status: 'one' });
      await new Promise((r) => setTimeout(r, 10));
      emit({ status: 'two' });
    }).request('/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(await res.text(), '{"status":"one"}\n{"status":"two"}\n');
  });

  test('a failure before any message is a plain error with its status', async () => {
    const res = await app(async () => {
      throw new BerthError('IMAGE_UNKNOWN', 'no such image');
    }).request('/');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { message: 'no such image' });
  });

  test('a failure after a message ends the stream with errorDetail (and the code picked for it)', async () => {
    const res = await app(async (emit) => {
      emit({ stream: 'Step 1/1 : RUN exit 3\n' });
      throw new BerthError('BUILD_FAILED', 'exit status 3', { exitCode: 3 });
    }).request('/');
    assert.equal(res.status, 200);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines.at(-1), { errorDetail: { message: 'exit status 3', code: 3 }, error: 'exit status 3' });
  });
});
