import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatUptime, goArch } from './info.js';

it("uptime in podman's words: hours, rounded minutes, whole seconds, and days after the first hour", { timeout: 5_000 }, () => {
  assert.equal(formatUptime(4705.93), '1h 18m 25.00s (Approximately 0.04 days)');
  assert.equal(formatUptime(59.9), '0h 1m 59.00s');
  assert.equal(formatUptime(3 * 86400 + 7200), '74h 0m 0.00s (Approximately 3.08 days)');
});

it("node's architectures by Go's names", { timeout: 5_000 }, () => {
  assert.equal(goArch('x64'), 'amd64');
  assert.equal(goArch('arm64'), 'arm64');
  assert.equal(goArch('ia32'), '386');
});
