import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildContext, containerEnv, type ContainerEnv } from '../testing/containers.js';

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { ExitCode: number; Output: string }[];
}

async function health(env: ContainerEnv, name: string): Promise<Health> {
  const r = await env.ok(['container', 'inspect', '--format', '{{json .State.Health}}', name]);
  return JSON.parse(r.stdout) as Health;
}

/** The check the tests use: passes until /bad exists, printing on both streams as podman's test image does. */
const CHECK = 'if [ -e /bad ]; then echo sick; echo sick >&2; exit 1; fi; echo fine; echo fine >&2';

describe("healthchecks: --health-* flags, healthcheck run, the timer, the image's HEALTHCHECK", { timeout: 180_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('runs the check on demand: silent exit 0 when it passes, "unhealthy" and exit 1 when it fails', async () => {
    await env.ok([
      'run',
      '-d',
      '--name',
      'hc-manual',
      '--network',
      'none',
      '--health-cmd',
      CHECK,
      '--health-interval',
      'disable',
      '--health-retries',
      '2',
      'busybox',
      'sleep',
      '1000',
    ]);
    const fresh = await health(env, 'hc-manual');
    assert.deepEqual([fresh.Status, fresh.FailingStreak, fresh.Log.length], ['starting', 0, 0]);

    const pass = await env.berth(['healthcheck', 'run', 'hc-manual']);
    assert.deepEqual([pass.code, pass.stdout, pass.stderr], [0, '', '']);
    const healthy = await health(env, 'hc-manual');
    assert.deepEqual([healthy.Status, healthy.FailingStreak], ['healthy', 0]);
    assert.deepEqual(healthy.Log.at(-1), { ...healthy.Log.at(-1), ExitCode: 0, Output: 'fine\nfine\n' });
    assert.match((await env.ok(['ps', '--format', '{{.Names}} {{.Status}}'])).stdout, /^hc-manual Up .* \(healthy\)$/m);

    await env.ok(['exec', 'hc-manual', 'touch', '/bad']);
    const fail1 = await env.berth(['healthcheck', 'run', 'hc-manual']);
    assert.deepEqual([fail1.code, fail1.stdout], [1, 'unhealthy\n']);
    // One failure of two allowed: the container is still healthy, with a streak of one.
    const once = await health(env, 'hc-manual');
    assert.deepEqual([once.Status, once.FailingStreak, once.Log.at(-1)?.ExitCode, once.Log.at(-1)?.Output], ['healthy', 1, 1, 'sick\nsick\n']);

    assert.equal((await env.berth(['healthcheck', 'run', 'hc-manual'])).code, 1);
    const twice = await health(env, 'hc-manual');
    assert.deepEqual([twice.Status, twice.FailingStreak], ['unhealthy', 2]);
    const inspected = await env.ok([
      'container',
      'inspect',
      '--format',
      '{{.State.Healthcheck.Status}} {{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Retries}} {{.Config.HealthcheckOnFailureAction}}',
      'hc-manual',
    ]);
    assert.equal(inspected.stdout, `unhealthy [CMD-SHELL ${CHECK}] 2 none\n`);
    assert.match((await env.ok(['ps', '--format', '{{.Names}} {{.Status}}'])).stdout, /^hc-manual Up .* \(unhealthy\)$/m);
    // Each check is an event, with the container's status after it, as podman logs them.
    const events = await env.ok([
      'events',
      '--stream=false',
      '--filter',
      'container=hc-manual',
      '--filter',
      'event=health_status',
      '--format',
      '{{.HealthStatus}}',
    ]);
    assert.equal(events.stdout, 'healthy\nhealthy\nunhealthy\n');
  });

  it('starts over on a restart', async () => {
    await env.ok(['restart', '-t', '0', 'hc-manual']);
    const restarted = await health(env, 'hc-manual');
    assert.deepEqual([restarted.Status, restarted.FailingStreak, restarted.Log.length], ['starting', 0, 0]);
    await env.ok(['rm', '-f', '-t', '0', 'hc-manual']);
  });

  it("checks once as the container starts, as podman's timer does, not an interval later", async () => {
    await env.ok(['run', '-d', '--name', 'hc-first', '--network', 'none', '--health-cmd', CHECK, '--health-interval', '1h', 'busybox', 'sleep', '1000']);
    // An hour's interval: only the check the start runs can make it healthy within the test.
    let h = await health(env, 'hc-first');
    for (const deadline = Date.now() + 30_000; h.Status !== 'healthy' && Date.now() < deadline; h = await health(env, 'hc-first')) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual([h.Status, h.Log.length, h.Log[0]?.ExitCode], ['healthy', 1, 0]);
    await env.ok(['rm', '-f', '-t', '0', 'hc-first']);
  });

  it('runs the check every interval by itself, and wait --condition sees the verdict', async () => {
    await env.ok([
      'run',
      '-d',
      '--name',
      'hc-timer',
      '--network',
      'none',
      '--health-cmd',
      CHECK,
      '--health-interval',
      '1s',
      '--health-retries',
      '1',
      'busybox',
      'sleep',
      '1000',
    ]);
    assert.equal((await env.berth(['wait', '--condition', 'healthy', 'hc-timer'])).code, 0);
    await env.ok(['exec', 'hc-timer', 'touch', '/bad']);
    assert.equal((await env.berth(['wait', '--condition', 'unhealthy', 'hc-timer'])).code, 0);
    const h = await health(env, 'hc-timer');
    assert.equal(h.Status, 'unhealthy');
    assert.ok(h.Log.length >= 2, 'the timer ran the check more than once');
    await env.ok(['rm', '-f', '-t', '0', 'hc-timer']);
  });

  it('takes --health-on-failure=kill: an unhealthy container is killed', async () => {
    await env.ok([
      'run',
      '-d',
      '--name',
      'hc-kill',
      '--network',
      'none',
      '--health-cmd',
      'false',
      '--health-interval',
      'disable',
      '--health-retries',
      '1',
      '--health-on-failure',
      'kill',
      'busybox',
      'sleep',
      '1000',
    ]);
    const r = await env.berth(['healthcheck', 'run', 'hc-kill']);
    assert.deepEqual([r.code, r.stdout], [1, 'unhealthy\n']);
    assert.equal((await env.ok(['wait', 'hc-kill'])).stdout, '137\n');
    await env.ok(['rm', '-f', 'hc-kill']);
  });

  it("runs the image's HEALTHCHECK, which --no-healthcheck turns off", async () => {
    const ctx = buildContext(env, 'hc-image', {
      Containerfile: 'FROM busybox\nHEALTHCHECK --interval=1s --retries=1 CMD test -e /etc/passwd\nCMD ["sleep", "1000"]\n',
    });
    await env.ok(['build', '--format', 'docker', '-t', 'hc-image', ctx]);
    await env.ok(['run', '-d', '--name', 'hc-image', '--network', 'none', 'hc-image']);
    const test = await env.ok(['container', 'inspect', '--format', '{{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}}', 'hc-image']);
    assert.equal(test.stdout, '[CMD-SHELL test -e /etc/passwd] 1000000000\n');
    assert.equal((await env.berth(['wait', '--condition', 'healthy', 'hc-image'])).code, 0);

    await env.ok(['create', '--name', 'hc-off', '--no-healthcheck', 'hc-image']);
    const off = JSON.parse((await env.ok(['container', 'inspect', 'hc-off'])).stdout) as { Config: Record<string, unknown>; State: Record<string, unknown> }[];
    assert.equal(off[0]!.Config['Healthcheck'], undefined);
    assert.equal(off[0]!.State['Health'], undefined);
    const none = await env.berth(['healthcheck', 'run', 'hc-off']);
    assert.equal(none.code, 125);
    assert.match(none.stderr, /^Error: container \w+ has no defined healthcheck$/m);
    await env.ok(['rm', '-f', '-t', '0', 'hc-image', 'hc-off']);
  });

  it('refuses bad values at create and creates nothing', async () => {
    for (const flags of [
      ['--health-cmd', 'true', '--health-interval', 'often'],
      ['--health-cmd', 'true', '--health-retries', '0'],
      ['--health-cmd', 'true', '--health-on-failure', 'explode'],
      ['--health-cmd', 'true', '--no-healthcheck'],
    ]) {
      const r = await env.berth(['create', '--name', 'hc-bad', ...flags, 'busybox']);
      assert.equal(r.code, 125, flags.join(' '));
      assert.match(r.stderr, /^Error: /);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal((await env.ok(['ps', '-a', '--format', '{{.Names}}'])).stdout.includes('hc-bad'), false);
  });
});
