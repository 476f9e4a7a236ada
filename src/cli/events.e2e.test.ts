import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthBin } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';
import { startRegistry, type Registry } from '../testing/registry.js';

const NONE = ['--network', 'none'];

interface LoggedEvent {
  ID?: string;
  Name?: string;
  Status: string;
  Type: string;
  Time: string;
  ContainerExitCode?: number;
  Attributes: Record<string, string> | null;
}

const jsonLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LoggedEvent);

describe('berth events', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  let registry: Registry;
  let webId = '';
  before(async () => {
    env = await containerEnv();
    registry = await startRegistry(join(env.dir, 'registry'));
    webId = (await env.ok(['run', '-d', '--name', 'web', '--label', 'tier=front', ...NONE, 'busybox', 'sleep', '100'])).stdout.trim();
    await env.ok(['stop', '-t', '1', 'web']);
    assert.equal((await env.berth(['run', '--name', 'bad', ...NONE, 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    await env.ok(['tag', 'busybox', 'extra:1']);
    await env.ok(['untag', 'busybox', 'extra:1']);
  });
  after(async () => {
    await registry?.stop();
    env?.cleanup();
  });

  it('--since with --stream=false, a filter and a template: the names of the containers started', async () => {
    const r = await env.ok(['events', '--since', '1m', '--stream=false', '--filter', 'event=start', '--format', '{{.Name}}']);
    assert.equal(r.stdout, 'web\nbad\n');
    // `system events` is the same command, as in podman.
    const system = await env.ok(['system', 'events', '--since', '1m', '--stream=false', '--filter', 'event=start', '--format', '{{.Name}}']);
    assert.equal(system.stdout, r.stdout);
  });

  it("the lifecycle in order, in podman's line format, with the labels", async () => {
    const r = await env.ok(['events', '--stream=false', '--filter', `container=${webId.slice(0, 12)}`]);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' ')[5]),
      ['create', 'init', 'start', 'stop', 'died', 'cleanup'],
    );
    assert.match(
      lines[0]!,
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? \\+0000 UTC container create ${webId} \\(image=localhost/busybox:latest, name=web, tier=front\\)$`,
      ),
    );
  });

  it('filters: one key ORed, different keys ANDed; label=; type=', async () => {
    const r = await env.ok([
      'events',
      '--stream=false',
      '--filter',
      'container=web',
      '--filter',
      'event=create',
      '--filter',
      'event=stop',
      '--format',
      '{{.Status}}',
    ]);
    assert.equal(r.stdout, 'create\nstop\n');
    const labelled = await env.ok(['events', '--stream=false', '--filter', 'label=tier=front', '--format', '{{.Name}}']);
    assert.deepEqual([...new Set(labelled.stdout.trim().split('\n'))], ['web']);
    const images = await env.ok([
      'events',
      '--stream=false',
      '--filter',
      'type=image',
      '--filter',
      'event=tag',
      '--filter',
      'event=untag',
      '--format',
      '{{.Status}} {{.Name}}',
    ]);
    assert.equal(images.stdout, 'tag extra:1\nuntag localhost/extra:1\n');
    const bad = await env.berth(['events', '--stream=false', '--filter', 'bogus=1']);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, 'Error: bogus is an invalid filter\n');
  });

  it("--format json: one JSON object per line with the exit code of died; templates see podman's fields", async () => {
    const died = jsonLines((await env.ok(['events', '--stream=false', '--filter', 'event=died', '--format', 'json'])).stdout);
    assert.deepEqual(
      died.map((e) => [e.Name, e.ContainerExitCode]),
      [
        ['web', 137],
        ['bad', 3],
      ],
    );
    assert.deepEqual(died[0]!.Attributes, { tier: 'front' });
    assert.equal(died[0]!.ID, webId);
    const t = await env.ok(['events', '--stream=false', '--filter', 'event=died', '--format', '{{.Type}} {{.ContainerExitCode}} {{.Attributes}} {{.Image}}']);
    assert.equal(t.stdout, 'container 137 map[tier:front] localhost/busybox:latest\ncontainer 3 map[] localhost/busybox:latest\n');
    // .Time as Go prints a time, .TimeNano the same instant in nanoseconds.
    const times = (await env.ok(['events', '--stream=false', '--filter', 'event=died', '--format', '{{.Time}}|{{.TimeNano}}'])).stdout.trim().split('\n');
    for (const [i, line] of times.entries()) {
      const [time, nanos] = line.split('|') as [string, string];
      const logged = died[i]!.Time; // 2026-12-03T06:00:00.123456789Z
      assert.equal(time, `${logged.slice(0, 10)} ${logged.slice(11, -1)} +0000 UTC`);
      assert.equal(new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString().slice(0, 19), logged.slice(0, 19));
      assert.equal(`.${(BigInt(nanos) % 1_000_000_000n).toString().padStart(9, '0')}`.replace(/\.?0+$/, ''), logged.slice(19, -1));
    }
  });

  it('--since and --until bound the events by time', async () => {
    const all = jsonLines((await env.ok(['events', '--stream=false', '--format', 'json'])).stdout);
    const tag = all.find((e) => e.Status === 'tag')!;
    const after = jsonLines((await env.ok(['events', '--stream=false', '--format', 'json', '--since', tag.Time])).stdout);
    assert.deepEqual(
      after.map((e) => e.Status),
      ['tag', 'untag'],
    );
    const before = jsonLines((await env.ok(['events', '--stream=false', '--format', 'json', '--until', tag.Time])).stdout);
    assert.equal(before.at(-1)!.Status, 'tag');
    assert.ok(before.length < all.length);
    assert.equal((await env.ok(['events', '--stream=false', '--since', '2099-01-01'])).stdout, '');
  });

  it('push and pull are recorded with the image and the name', async () => {
    const dest = `${registry.host}/events/bb:1`;
    await env.ok(['push', '-q', '--tls-verify=false', 'busybox', dest]);
    await env.ok(['pull', '-q', '--tls-verify=false', dest]);
    const r = await env.ok([
      'events',
      '--stream=false',
      '--filter',
      'type=image',
      '--filter',
      'event=push',
      '--filter',
      'event=pull',
      '--format',
      '{{.Status}} {{.Name}} {{.ID}}',
    ]);
    const id = (await env.ok(['image', 'inspect', '--format', '{{.Id}}', 'busybox'])).stdout.trim().replace(/^sha256:/, '');
    assert.equal(r.stdout, `push ${dest} ${id}\npull ${dest} ${id}\n`);
  });

  it("died is recorded by conmon's cleanup when a detached container exits by itself", async () => {
    const id = (await env.ok(['run', '-d', ...NONE, 'busybox', 'sh', '-c', 'exit 5'])).stdout.trim();
    let died: LoggedEvent[] = [];
    for (let i = 0; i < 100 && died.length === 0; i++) {
      died = jsonLines((await env.ok(['events', '--stream=false', '--format', 'json', '--filter', 'event=died', '--filter', `container=${id}`])).stdout);
      if (died.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(died.length, 1);
    assert.equal(died[0]!.ContainerExitCode, 5);
    await env.ok(['rm', id]);
  });

  it("--rm, start -a and a foreground run: podman 4.3's sequences, died once", async () => {
    const statuses = async (name: string) =>
      (await env.ok(['events', '--stream=false', '--filter', `container=${name}`, '--format', '{{.Status}}'])).stdout.trim().split('\n');
    // podman's own, checked by hand: `run --rm` create init start attach died remove; `run -d --rm`
    // the same without attach; `start -a` of a created one ... attach died cleanup.
    await env.ok(['run', '--rm', '--name', 'fg-rm', ...NONE, 'busybox', 'true']);
    assert.deepEqual(await statuses('fg-rm'), ['create', 'init', 'start', 'attach', 'died', 'remove']);
    await env.ok(['run', '-d', '--rm', '--name', 'bg-rm', ...NONE, 'busybox', 'true']);
    let bg: string[] = [];
    for (let i = 0; i < 100 && !bg.includes('remove'); i++) {
      bg = await statuses('bg-rm');
      if (!bg.includes('remove')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(bg, ['create', 'init', 'start', 'died', 'remove']);
    await env.ok(['create', '--name', 'started', ...NONE, 'busybox', 'true']);
    await env.ok(['start', '-a', 'started']);
    assert.deepEqual(await statuses('started'), ['create', 'init', 'start', 'attach', 'died', 'cleanup']);
    await env.ok(['rm', 'started']);
  });

  it('berth processes recording at once each leave one whole line', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `concurrent${i}`);
    await Promise.all(names.map((n) => env.ok(['volume', 'create', n])));
    const created = jsonLines((await env.ok(['events', '--stream=false', '--format', 'json', '--filter', 'type=volume', '--filter', 'event=create'])).stdout);
    assert.deepEqual(
      created
        .map((e) => e.Name)
        .filter((n) => n?.startsWith('concurrent'))
        .sort(),
      names,
    );
    await env.ok(['volume', 'rm', ...names]);
  });

  it('streams new events until interrupted', async () => {
    const since = new Date().toISOString();
    const child = spawn(
      berthBin,
      ['--root', env.root, '--runroot', env.runRoot, 'events', '--since', since, '--filter', 'type=volume', '--format', '{{.Status}} {{.Name}}'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await env.ok(['volume', 'create', 'streamed']);
      await env.ok(['volume', 'rm', 'streamed']);
      for (let i = 0; i < 100 && !out.includes('remove streamed'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(out, 'create streamed\nremove streamed\n');
      assert.equal(child.exitCode, null, 'still following');
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });
});
