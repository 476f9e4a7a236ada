import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthConfig, parseHealthDuration } from './health.js';

describe("healthConfig: the flags over the image's HEALTHCHECK", { timeout: 10_000 }, () => {
  it("takes a shell command, a JSON array and podman's defaults", () => {
    assert.deepEqual(healthConfig({ healthCmd: 'curl -f localhost' }, undefined), {
      Test: ['CMD-SHELL', 'curl -f localhost'],
      Interval: 30e9,
      Timeout: 30e9,
      StartPeriod: 0,
      Retries: 3,
      OnFailure: 'none',
    });
    assert.deepEqual(healthConfig({ healthCmd: '["CMD", "/bin/check", "--deep"]' }, undefined)?.Test, ['CMD', '/bin/check', '--deep']);
    assert.deepEqual(healthConfig({ healthCmd: '["/bin/check"]' }, undefined)?.Test, ['CMD', '/bin/check']);
  });

  it("keeps the image's settings unless a flag changes them", () => {
    const image = { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 7 };
    assert.deepEqual(healthConfig({}, image), { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Timeout: 30e9, StartPeriod: 0, Retries: 7, OnFailure: 'none' });
    const tuned = healthConfig(
      { healthInterval: '1m30s', healthTimeout: '2s', healthStartPeriod: '500ms', healthRetries: '1', healthOnFailure: 'Restart' },
      image,
    );
    assert.deepEqual(tuned, { Test: ['CMD-SHELL', 'true'], Interval: 90e9, Timeout: 2e9, StartPeriod: 5e8, Retries: 1, OnFailure: 'restart' });
    assert.equal(healthConfig({ healthInterval: 'disable' }, image)?.Interval, 0);
  });

  it('is off with --no-healthcheck, --health-cmd none, HEALTHCHECK NONE or nothing at all', () => {
    assert.equal(healthConfig({ noHealthcheck: true }, { Test: ['CMD', 'true'] }), undefined);
    assert.equal(healthConfig({ healthCmd: 'none' }, { Test: ['CMD', 'true'] }), undefined);
    assert.equal(healthConfig({}, { Test: ['NONE'] }), undefined);
    assert.equal(healthConfig({}, undefined), undefined);
  });

  it('refuses what podman refuses', () => {
    assert.throws(() => healthConfig({ healthCmd: 'true', noHealthcheck: true }, undefined), /cannot specify both --no-healthcheck/);
    assert.throws(() => healthConfig({ healthCmd: 'true', healthRetries: '0' }, undefined), /retries must be greater than 0/);
    assert.throws(() => healthConfig({ healthCmd: 'true', healthInterval: '10ms' }, undefined), /at least 1 second/);
    assert.throws(() => healthConfig({ healthCmd: 'true', healthOnFailure: 'panic' }, undefined), /invalid on-failure action/);
    assert.throws(() => healthConfig({ healthInterval: '5s' }, undefined), /without a healthcheck/);
  });

  it('parses Go durations and refuses others', () => {
    assert.equal(parseHealthDuration('1h2m3s', '--x'), 3723e9);
    assert.equal(parseHealthDuration('1.5s', '--x'), 1.5e9);
    assert.equal(parseHealthDuration('0', '--x'), 0);
    for (const bad of ['', '5', '1d', 's', '1s '])
      assert.throws(() => parseHealthDuration(bad, '--health-timeout'), /invalid argument .* for "--health-timeout" flag/);
  });
});
