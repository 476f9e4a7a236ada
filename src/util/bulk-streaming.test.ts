import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { duringBulkStreaming } from './bulk-streaming.js';

const here = new URL('./bulk-streaming.js', import.meta.url).href;

test('duringBulkStreaming gives fn its value or its failure, nested and side by side', { timeout: 5_000 }, async () => {
  assert.equal(await duringBulkStreaming(async () => 7), 7);
  const both = await Promise.all([duringBulkStreaming(async () => duringBulkStreaming(async () => 'inner')), duringBulkStreaming(async () => 'other')]);
  assert.deepEqual(both, ['inner', 'other']);
  await assert.rejects(
    duringBulkStreaming(async () => {
      throw new Error('broken transfer');
    }),
    /broken transfer/,
  );
  // Still usable after a failure: the count of transfers under way went back down.
  assert.equal(await duringBulkStreaming(async () => 'after'), 'after');
});

test('under it, short-lived Buffers no longer force full collections: the young generation is collected as bytes stream', { timeout: 60_000 }, () => {
  // In a process of its own, so that nothing else this runner does moves V8's counts. 800 MB in
  // 128 KiB Buffers, as a pull's socket reads and gunzip output come, with the event loop turning,
  // each chunk told to bulkStreamed: first plainly (8-12 full collections here, no young ones),
  // then under duringBulkStreaming (0-1 full, 100 young). Plain first: once the flag is reset, V8
  // keeps the margins it grew under it for a while, which is harmless (a process doing the same
  // churn after it stayed at ~70 MB RSS, as before it).
  const script = `
    import { PerformanceObserver, constants } from 'node:perf_hooks';
    import { setImmediate as turn } from 'node:timers/promises';
    const { bulkStreamed, duringBulkStreaming } = await import(${JSON.stringify(here)});
    let majors = 0;
    let minors = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
        if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) minors++;
      }
    }).observe({ entryTypes: ['gc'] });
    async function churn() {
      let sum = 0;
      for (let i = 0; i < 6400; i++) {
        const b = Buffer.allocUnsafe(128 * 1024);
        b[0] = i;
        sum += b[0];
        bulkStreamed(b.length);
        if (i % 8 === 0) await turn();
      }
      await new Promise((r) => setTimeout(r, 50));
      return sum;
    }
    const counts = {};
    for (const [name, run] of [['plain', churn], ['bulk', () => duringBulkStreaming(churn)]]) {
      majors = 0;
      minors = 0;
      await run();
      counts[name] = { majors, minors };
    }
    console.log(JSON.stringify(counts));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const counts = JSON.parse(out) as Record<'plain' | 'bulk', { majors: number; minors: number }>;
  // A flag V8 does not know is only a line on stderr: the full collections would not fall.
  assert.ok(counts.plain.majors >= 4, `the plain churn started ${counts.plain.majors} full collections: the test no longer measures what it should`);
  assert.ok(
    counts.bulk.majors * 2 < counts.plain.majors,
    `full collections: ${counts.bulk.majors} under duringBulkStreaming, ${counts.plain.majors} without it`,
  );
  // 800 MB told to bulkStreamed: one young-generation collection per 8 MiB (100), none without it.
  assert.ok(counts.bulk.minors >= 90, `young-generation collections under duringBulkStreaming: ${counts.bulk.minors}`);
  assert.ok(counts.plain.minors < 20, `young-generation collections without it: ${counts.plain.minors}`);
});
