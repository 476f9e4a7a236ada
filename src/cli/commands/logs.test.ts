import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTime } from './logs.js';

describe('logs --since/--until times', { timeout: 10_000 }, () => {
  it('reads RFC 3339 (a comma before the fraction too), Unix seconds and durations before now', () => {
    const at = Date.parse('2026-12-04T13:16:19.511Z');
    assert.equal(parseTime('2026-12-04T13:16:19.511754483Z'), at);
    // `date --iso-8601=ns`, as podman's own tests pass it.
    assert.equal(parseTime('2026-12-04T13:16:19,511754483+00:00'), at);
    assert.equal(parseTime('2026-12-04T14:16:19+01:00'), Date.parse('2026-12-04T13:16:19Z'));
    assert.equal(parseTime('1700000000.5'), 1_700_000_000_500);
    const now = 1_800_000_000_000;
    assert.equal(parseTime('1h30m', now), now - 5_400_000);
    assert.equal(parseTime('45s', now), now - 45_000);
    assert.throws(() => parseTime('yesterday'), /invalid time "yesterday"/);
    assert.throws(() => parseTime('2026-12-04T13:16:19;5Z'), /invalid time/);
  });
});
