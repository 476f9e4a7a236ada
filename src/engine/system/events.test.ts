import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { appendLine, previousLog, tailLines } from './_event-log.js';
import { parseEventFilters, parseEventTime, parseRfc3339, rfc3339Nano, type BerthEvent } from './events.js';
import { parseGoDuration } from '../../util/go-duration.js';

const ev = (e: Partial<BerthEvent>): BerthEvent => ({ Status: 'start', Time: '2026-01-01T00:00:00Z', Type: 'container', Attributes: null, ...e });

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Runs `count` appends of `bytes`-long lines tagged with `writer`, in a process of its own. */
function appender(path: string, writer: number, count: number, bytes: number, rotateAt: number): Promise<number> {
  const module = fileURLToPath(new URL('./_event-log.js', import.meta.url));
  const script = `
    const { appendLine } = await import(${JSON.stringify(module)});
    for (let i = 0; i < ${count}; i++) {
      const line = JSON.stringify({ writer: ${writer}, i, pad: 'x'.repeat(${bytes}) });
      await appendLine(${JSON.stringify(path)}, line, ${rotateAt});
    }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

const linesOf = (path: string) =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];

describe('event filters and times', { timeout: 10_000 }, () => {
  test('the same key is ORed, different keys ANDed, as podman does', () => {
    const keep = parseEventFilters(['event=start', 'event=stop', 'type=container', 'container=web']);
    assert.ok(keep(ev({ Status: 'start', Name: 'web', ID: 'abc' })));
    assert.ok(keep(ev({ Status: 'stop', Name: 'x', ID: 'abc' })) === false);
    assert.ok(keep(ev({ Status: 'stop', Name: 'y', ID: 'webby' })));
    assert.ok(keep(ev({ Status: 'stop', Name: 'y', ID: 'xyz' })) === false);
    assert.ok(keep(ev({ Status: 'died', Name: 'web' })) === false);
    assert.ok(keep(ev({ Status: 'start', Name: 'web', Type: 'image' })) === false);
    // container= takes a name or an ID prefix; image= only matches image events.
    assert.ok(parseEventFilters(['container=ab'])(ev({ ID: 'abcdef', Name: 'n' })));
    assert.ok(!parseEventFilters(['image=ab'])(ev({ ID: 'abcdef', Name: 'n' })));
    assert.ok(parseEventFilters(['image=busybox'])(ev({ Type: 'image', Name: 'busybox', Status: 'pull' })));
    assert.ok(parseEventFilters(['label=a=b'])(ev({ Attributes: { a: 'b' } })));
    assert.ok(!parseEventFilters(['label=a=c'])(ev({ Attributes: { a: 'b' } })));
    assert.ok(parseEventFilters(['label=a'])(ev({ Attributes: { a: 'b' } })));
    assert.ok(parseEventFilters(['volume=v'])(ev({ Type: 'volume', Name: 'v1' })));
    assert.ok(parseEventFilters([])(ev({})));
  });

  test('an unknown or malformed filter is a usage error', () => {
    assert.throws(() => parseEventFilters(['bogus=1']), /bogus is an invalid filter/);
    assert.throws(() => parseEventFilters(['event']), /event is an invalid filter/);
  });

  test('times: RFC 3339 with nanoseconds round-trip, Unix seconds, Go durations before and after now', () => {
    assert.equal(rfc3339Nano(parseRfc3339('2026-12-03T06:32:17.00376297Z')!), '2026-12-03T06:32:17.00376297Z');
    assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
    assert.equal(parseRfc3339('2026-12-03T07:32:17+01:00'), parseRfc3339('2026-12-03T06:32:17Z'));
    assert.equal(parseRfc3339('2026-12-03'), parseRfc3339('2026-12-03T00:00:00Z'));
    // `date --iso-8601=ns`, which podman's system tests pass to --since and --until.
    assert.equal(parseRfc3339('2026-12-04T13:16:19,511754483+00:00'), parseRfc3339('2026-12-04T13:16:19.511754483Z'));
    const now = 2_000_000_000_000_000_000n;
    assert.equal(parseEventTime('1m', true, now), now - 60_000_000_000n);
    assert.equal(parseEventTime('1h30m', false, now), now + 5_400_000_000_000n);
    assert.equal(parseEventTime('1700000000.5', true, now), 1_700_000_000_500_000_000n);
    assert.equal(parseGoDuration('1.5s'), 1.5e9);
    assert.equal(parseGoDuration('10'), undefined);
    assert.throws(() => parseEventTime('garbage', true), /unable to interpret time value/);
  });
});

describe('the event log file', { timeout: 60_000 }, () => {
  test(
    'concurrent processes appending at once leave only whole lines, none lost',
    withDir(async (dir) => {
      const path = join(dir, 'events', 'events.log');
      // Lines longer than a page, so that anything but one write(2) per line would interleave.
      const codes = await Promise.all([0, 1, 2, 3, 4, 5].map((w) => appender(path, w, 150, 6000, 1 << 30)));
      assert.deepEqual(codes, [0, 0, 0, 0, 0, 0]);
      const lines = linesOf(path);
      assert.equal(lines.length, 6 * 150);
      const seen = new Set<string>();
      for (const l of lines) {
        const parsed = JSON.parse(l) as { writer: number; i: number; pad: string };
        assert.equal(parsed.pad.length, 6000);
        seen.add(`${parsed.writer}:${parsed.i}`);
      }
      assert.equal(seen.size, 6 * 150);
      assert.equal(statSync(path).mode & 0o777, 0o600);
    }),
  );

  test(
    'rotation under concurrent appends keeps the log bounded, whole, and the newest lines',
    withDir(async (dir) => {
      const path = join(dir, 'events.log');
      const rotateAt = 64 * 1024;
      const codes = await Promise.all([0, 1, 2, 3].map((w) => appender(path, w, 200, 1000, rotateAt)));
      assert.deepEqual(codes, [0, 0, 0, 0]);
      const older = linesOf(previousLog(path));
      const newer = linesOf(path);
      assert.ok(older.length > 0, 'the log rotated');
      for (const l of [...older, ...newer]) assert.equal((JSON.parse(l) as { pad: string }).pad.length, 1000);
      // Each file is at most one line past the limit (plus lines of appenders racing the rename).
      for (const p of [path, previousLog(path)]) assert.ok(statSync(p).size <= rotateAt + 8 * 1100, `${p} is bounded`);
      // Rotation drops only the oldest lines: of each writer, what is kept runs without a gap up to
      // its last line (a line lost to a rename would leave a hole).
      const kept = new Map<number, number[]>();
      for (const l of [...older, ...newer]) {
        const e = JSON.parse(l) as { writer: number; i: number };
        kept.set(e.writer, [...(kept.get(e.writer) ?? []), e.i]);
      }
      assert.ok(kept.size > 0);
      for (const [writer, is] of kept) {
        const sorted = [...is].sort((a, b) => a - b);
        assert.equal(sorted.at(-1), 199, `writer ${writer} keeps its last line`);
        assert.deepEqual(
          sorted,
          Array.from({ length: sorted.length }, (_, k) => 200 - sorted.length + k),
          `writer ${writer} has no gap`,
        );
      }
      assert.ok(older.length + newer.length >= rotateAt / 1100, 'at least the newer half is kept');
    }),
  );

  test(
    'a follower reads on across a rotation, in order, and stops when told',
    withDir(async (dir) => {
      const path = join(dir, 'events.log');
      await appendLine(path, 'before', 1 << 30);
      const abort = new AbortController();
      const got: string[] = [];
      const reading = (async () => {
        for await (const line of tailLines(path, { fromStart: false, follow: true, signal: abort.signal, pollMs: 20 })) {
          got.push(line);
          if (got.length === 4) abort.abort();
        }
      })();
      await new Promise((r) => setTimeout(r, 60));
      await appendLine(path, 'one', 1 << 30);
      await appendLine(path, 'two-rotates', 10); // past the limit: renamed to events.log.1
      await new Promise((r) => setTimeout(r, 60));
      await appendLine(path, 'three', 1 << 30);
      await appendLine(path, 'four', 1 << 30);
      await reading;
      assert.deepEqual(got, ['one', 'two-rotates', 'three', 'four']);
      // Read from the start, both files, oldest first.
      const all: string[] = [];
      for await (const line of tailLines(path, { fromStart: true, follow: false })) all.push(line);
      assert.deepEqual(all, ['before', 'one', 'two-rotates', 'three', 'four']);
    }),
  );
});
