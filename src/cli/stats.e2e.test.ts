import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { berthBin, run } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

const NONE = ['--network', 'none'];

/** One argument for sh, quoted whole: the command line `script` hands to the shell is ours alone. */
const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

describe('stats', { timeout: 180_000 }, () => {
  let env: ContainerEnv;
  before(async () => {
    env = await containerEnv();
    await env.ok(['run', '-d', '--name', 'busy', ...NONE, 'busybox', 'sh', '-c', 'while :; do :; done']);
  });
  after(() => env?.cleanup());

  it("--no-stream prints one sample in podman's table", async () => {
    const r = await env.ok(['stats', '--no-stream']);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines[0]!, /^ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET IO\s+BLOCK IO\s+PIDS\s+CPU TIME\s+AVG CPU %$/);
    assert.match(lines[1]!, /^[0-9a-f]{12}\s+busy\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+1\s+\S+\s+\d+\.\d\d%$/);
  });

  it("--format json uses podman's keys; a template its fields", async () => {
    const r = await env.ok(['stats', '--no-stream', '--format', 'json', 'busy']);
    const rows = JSON.parse(r.stdout) as Record<string, string>[];
    assert.deepEqual(Object.keys(rows[0]!), ['id', 'name', 'cpu_time', 'cpu_percent', 'avg_cpu', 'mem_usage', 'mem_percent', 'net_io', 'block_io', 'pids']);
    assert.equal(rows[0]!.name, 'busy');
    assert.equal(rows[0]!.pids, '1');
    const t = await env.ok(['stats', '--no-stream', '--no-trunc', '--format', '{{.Name}} {{.ID}} {{.PIDs}}', 'busy']);
    assert.match(t.stdout, /^busy [0-9a-f]{64} 1\n$/);
  });

  it('streams a sample every --interval and ends when its named containers stop', async () => {
    await env.ok(['run', '-d', '--name', 'brief', ...NONE, 'busybox', 'sleep', '100']);
    const started = Date.now();
    const streaming = env.berth(['stats', '-i', '1', '--format', '{{.Name}} {{.PIDs}}', 'brief'], { timeoutMs: 30_000 });
    await sleep(2500);
    await env.ok(['stop', '-t', '0', 'brief']);
    const r = await streaming;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean);
    // At 0, 1 and 2 s while it ran (at least 2 of them), then the stopped container once.
    assert.ok(lines.filter((l) => l === 'brief 1').length >= 2, r.stdout);
    assert.equal(lines.at(-1), 'brief 0');
    assert.ok(Date.now() - started < 15_000);
    await env.ok(['rm', 'brief']);
  });

  it('on a terminal redraws the screen for each sample, unless --no-reset', async () => {
    const argv = (extra: string[]) => [berthBin, '--root', env.root, '--runroot', env.runRoot, 'stats', '-i', '1', ...extra, 'busy'].map(shellQuote).join(' ');
    // timeout ends the stream after two or three samples; script gives it a terminal.
    const count = (text: string, what: string) => text.split(what).length - 1;
    const r = await run('script', ['-qec', `timeout 2.5 ${argv([])}`, '/dev/null'], { timeoutMs: 30_000 });
    assert.ok(count(r.stdout, 'MEM USAGE') >= 2, JSON.stringify(r.stdout));
    assert.equal(count(r.stdout, '\x1b[2J\x1b[1;1HID '), count(r.stdout, 'MEM USAGE'), JSON.stringify(r.stdout));
    const plain = await run('script', ['-qec', `timeout 2.5 ${argv(['--no-reset'])}`, '/dev/null'], { timeoutMs: 30_000 });
    assert.ok(!plain.stdout.includes('\x1b[2J'));
    assert.ok(count(plain.stdout, 'MEM USAGE') >= 2, JSON.stringify(plain.stdout));
  });

  it('refuses a bad interval and an unknown container as podman does', async () => {
    const zero = await env.berth(['stats', '--no-stream', '-i', '0']);
    assert.equal(zero.code, 125);
    assert.equal(zero.stderr, 'Error: invalid interval, must be a positive number greater zero\n');
    const missing = await env.berth(['stats', '--no-stream', 'nonesuch']);
    assert.equal(missing.code, 125);
    assert.equal(
      missing.stderr,
      'Error: unable to get list of containers: unable to look up container nonesuch: no container with name or ID "nonesuch" found: no such container\n',
    );
  });

  it('-a shows stopped containers too, with zeroes', async () => {
    await env.ok(['create', '--name', 'idle', ...NONE, 'busybox', 'true']);
    const running = await env.ok(['stats', '--no-stream', '--format', '{{.Name}}']);
    assert.equal(running.stdout, 'busy\n');
    const all = await env.ok(['stats', '--no-stream', '-a', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}']);
    assert.match(all.stdout, /^idle 0B \/ 0B 0$/m);
    await env.ok(['rm', 'idle']);
  });
});
