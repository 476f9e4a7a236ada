import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatWarning } from './log-warning.js';

test('warnings as podman\'s logrus prints them, in a terminal and not', { timeout: 5_000 }, () => {
  assert.match(formatWarning('StopSignal SIGTERM failed', true, new Date()), /^WARN\[\d{4}\] StopSignal SIGTERM failed$/);
  assert.equal(formatWarning('a "b" c', false, new Date('2026-12-03T07:34:50.123Z')), 'time="2026-12-03T07:34:50Z" level=warning msg="a \\"b\\" c"');
});
