import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { collector } from './gc.js';

test('collector() gives V8 gc() and leaves --expose-gc off for what comes after', { timeout: 10_000 }, async () => {
  const collect = collector();
  assert.ok(collect, 'no gc() on this Node');
  assert.equal(collector(), collect, 'made once');
  const kinds: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
  });
  observer.observe({ entryTypes: ['gc'] });
  collect({ type: 'minor' });
  collect({ type: 'major' });
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  assert.ok(kinds.includes(constants.NODE_PERFORMANCE_GC_MINOR), `collections seen: ${kinds.join(', ')}`);
  assert.ok(kinds.includes(constants.NODE_PERFORMANCE_GC_MAJOR), `collections seen: ${kinds.join(', ')}`);
  assert.equal(runInNewContext('typeof gc'), 'undefined', 'a context made later has gc: the flag stayed on');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
});
