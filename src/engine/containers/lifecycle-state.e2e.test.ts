import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { berthBin } from '../../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../../testing/containers.js';
import { waitFor as waitUntil } from '../../testing/wait.js';
import { containerRecord } from '../../testing/container-record.js';

/** Every wait of this file is bounded at 20,000 ms. */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined> | T | undefined): Promise<T> => waitUntil(what, fn, 20_000);

/** Mount points under the store (a container's merged root left mounted shows here). */
function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(root));
}

describe('container state: one file per container, one cleanup owner', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  const records = () => join(env.root, 'containers.json');
  const stateFile = (id: string) => join(env.root, 'containers', id, 'state.json');
  const events = async (name: string, event: string) =>
    (await env.ok(['events', '--stream=false', '--filter', `container=${name}`, '--filter', `event=${event}`, '--format', '{{.Status}}'])).stdout
      .split('\n')
      .filter(Boolean).length;

  it("start, stop and cleanup write the container's state.json, never containers.json", async () => {
    const id = (await env.ok(['create', '--name', 'still', '--network', 'none', 'busybox', 'sleep', '60'])).stdout.trim();
    assert.ok(existsSync(stateFile(id)), 'create writes the state file');
    const before = statSync(records());
    const content = readFileSync(records(), 'utf8');
    assert.doesNotMatch(content, /"status"/, 'the records hold no state');
    await env.ok(['start', 'still']);
    assert.equal(JSON.parse(readFileSync(stateFile(id), 'utf8')).status, 'running');
    await env.ok(['stop', '-t', '0', 'still']);
    const state = JSON.parse(readFileSync(stateFile(id), 'utf8'));
    assert.equal(state.status, 'exited');
    assert.equal(state.mounted, false);
    const after = statSync(records());
    assert.equal(after.ino, before.ino, 'containers.json was not replaced');
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(readFileSync(records(), 'utf8'), content);
    await env.ok(['rm', 'still']);
  });

  it('reads a store an older berth wrote (state inside containers.json), and moves it to a state file on the first change', async () => {
    const id = (await env.ok(['create', '--name', 'old', '--network', 'none', 'busybox', 'true'])).stdout.trim();
    // As an older berth left it: the state inline in the record, no state file.
    const file = JSON.parse(readFileSync(records(), 'utf8'));
    const rec = file.containers.find((c: { id: string }) => c.id === id);
    rec.state = {
      status: 'exited',
      pid: 0,
      conmonPid: 0,
      exitCode: 7,
      oomKilled: false,
      restartCount: 0,
      stoppedByUser: false,
      mounted: false,
      helpers: [],
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
    };
    writeFileSync(records(), JSON.stringify(file));
    rmSync(stateFile(id));
    assert.equal((await env.ok(['ps', '-a', '--filter', 'name=old', '--format', '{{.Status}}'])).stdout.trim().replace(/ .*/, ''), 'Exited');
    assert.equal((await env.ok(['container', 'inspect', '--format', '{{.State.ExitCode}}', 'old'])).stdout.trim(), '7');
    // A start and its exit: recorded in the new file, the record untouched.
    assert.equal((await env.berth(['start', '-a', 'old'])).code, 0);
    assert.equal(JSON.parse(readFileSync(stateFile(id), 'utf8')).exitCode, 0);
    assert.equal((await env.ok(['container', 'inspect', '--format', '{{.State.ExitCode}}', 'old'])).stdout.trim(), '0');
    await env.ok(['rm', 'old']);
    assert.equal((await env.ok(['ps', '-a', '-q'])).stdout, '');
  });

  it('a foreground run --rm killed with SIGKILL: its monitor still cleans up and removes the container', async () => {
    const child = spawn(
      berthBin,
      ['--root', env.root, '--runroot', env.runRoot, 'run', '--rm', '--name', 'orphan', '--network', 'none', 'busybox', 'sleep', '2'],
      { stdio: 'ignore' },
    );
    const id = await waitFor('the container to run', async () => {
      const r = await env.berth(['ps', '--filter', 'name=orphan', '-q', '--no-trunc']);
      return r.stdout.trim() || undefined;
    });
    assert.equal(JSON.parse(readFileSync(stateFile(id), 'utf8')).cleanupOwner, 'caller');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // Nobody runs any berth command meanwhile: conmon's call alone, finding the caller gone, must do it.
    await waitFor('the container to be removed', () => (existsSync(join(env.root, 'containers', id)) ? undefined : true));
    assert.deepEqual(mountsUnder(env.root), []);
    assert.equal((await env.ok(['ps', '-a', '-q'])).stdout, '');
  });

  it('a detached container that exits is cleaned up by its monitor, once', async () => {
    const id = (await env.ok(['run', '-d', '--name', 'brief', '--network', 'none', 'busybox', 'sh', '-c', 'exit 4'])).stdout.trim();
    await waitFor("the monitor's cleanup", () => {
      const s = JSON.parse(readFileSync(stateFile(id), 'utf8'));
      return s.status === 'exited' && s.mounted === false ? s : undefined;
    });
    assert.equal(JSON.parse(readFileSync(stateFile(id), 'utf8')).cleanupOwner, 'monitor');
    assert.equal((await env.ok(['container', 'inspect', '--format', '{{.State.ExitCode}}', 'brief'])).stdout.trim(), '4');
    assert.deepEqual(mountsUnder(join(env.root, 'containers', id)), []);
    assert.equal(await events('brief', 'cleanup'), 1);
    await env.ok(['rm', 'brief']);
  });

  it('stop of a detached container: cleaned up once, and done when stop returns', async () => {
    const id = (await env.ok(['run', '-d', '--name', 'stopped', '--network', 'none', 'busybox', 'sleep', '60'])).stdout.trim();
    await env.ok(['stop', '-t', '0', 'stopped']);
    const s = JSON.parse(readFileSync(stateFile(id), 'utf8'));
    assert.equal(s.status, 'exited');
    assert.equal(s.mounted, false, 'cleaned up before stop returned');
    assert.deepEqual(mountsUnder(join(env.root, 'containers', id)), []);
    // Give a second cleanup, were there one, the time to show.
    await sleep(1000);
    assert.equal(await events('stopped', 'died'), 1);
    assert.equal(await events('stopped', 'cleanup'), 1);
    await env.ok(['rm', 'stopped']);
  });

  it("stop takes a detached container's cleanup over from its monitor, and does it itself", async () => {
    const id = (await env.ok(['run', '-d', '--name', 'takeover', '--network', 'none', 'busybox', 'sleep', '60'])).stdout.trim();
    assert.equal(JSON.parse(readFileSync(stateFile(id), 'utf8')).cleanupOwner, 'monitor');
    const stop = spawn(berthBin, ['--root', env.root, '--runroot', env.runRoot, 'stop', '-t', '0', 'takeover'], { stdio: 'ignore' });
    const code = await new Promise((resolve) => stop.once('exit', resolve));
    assert.equal(code, 0);
    const s = JSON.parse(readFileSync(stateFile(id), 'utf8'));
    // The stop recorded itself as the owner before its signal, so conmon's exit command ended at once.
    assert.equal(s.cleanupOwner, 'caller');
    assert.match(s.ownerToken, new RegExp(`^${stop.pid}-`));
    assert.equal(s.status, 'exited');
    assert.equal(s.mounted, false);
    await sleep(1000);
    assert.equal(await events('takeover', 'cleanup'), 1);
    await env.ok(['rm', 'takeover']);
  });

  it("a stop killed after it took the cleanup over: conmon's exit command, finding it gone, cleans up", async () => {
    // busybox as PID 1 ignores SIGTERM: the stop waits out its timeout, and is killed meanwhile.
    const id = (await env.ok(['run', '-d', '--name', 'stopkilled', '--network', 'none', 'busybox', 'sleep', '60'])).stdout.trim();
    const stop = spawn(berthBin, ['--root', env.root, '--runroot', env.runRoot, 'stop', '-t', '30', 'stopkilled'], { stdio: 'ignore' });
    const state = await waitFor('the stop to take the cleanup over', () => {
      const s = JSON.parse(readFileSync(stateFile(id), 'utf8'));
      return s.status === 'stopping' && String(s.ownerToken).startsWith(`${stop.pid}-`) ? s : undefined;
    });
    stop.kill('SIGKILL');
    await new Promise((resolve) => stop.once('exit', resolve));
    // No berth command runs meanwhile (one that looks the container up would clean up too): the
    // container's process is ended directly, and conmon's exit command alone must do the rest.
    process.kill(state.pid, 'SIGKILL');
    await waitFor('the exit command to clean up', () => {
      const s = JSON.parse(readFileSync(stateFile(id), 'utf8'));
      return s.status === 'exited' && s.mounted === false ? s : undefined;
    });
    assert.deepEqual(mountsUnder(join(env.root, 'containers', id)), []);
    await env.ok(['rm', 'stopkilled']);
  });

  it('stop of a detached container whose monitor was killed: the owner is gone, stop cleans up itself', async () => {
    const id = (await env.ok(['run', '-d', '--name', 'nomon', '--network', 'none', 'busybox', 'sleep', '60'])).stdout.trim();
    const conmon = Number((await env.ok(['container', 'inspect', '--format', '{{.State.ConmonPid}}', 'nomon'])).stdout.trim());
    process.kill(conmon, 'SIGKILL');
    const t0 = Date.now();
    await env.ok(['stop', '-t', '0', 'nomon']);
    // No exit file comes: stop sees the end by the two PIDs (the killed conmon a zombie until init
    // reaps it, which counts as ended), and must not then wait the 30 s it gives a monitor's
    // cleanup call that will never come.
    assert.ok(Date.now() - t0 < 25_000, `stop took ${Date.now() - t0} ms`);
    const s = JSON.parse(readFileSync(stateFile(id), 'utf8'));
    assert.equal(s.status, 'exited');
    assert.equal(s.mounted, false);
    assert.deepEqual(mountsUnder(join(env.root, 'containers', id)), []);
    await env.ok(['rm', 'nomon']);
  });

  it('rm -f of a container whose monitor was killed: its process ended and everything of it removed', async () => {
    const id = (await env.ok(['run', '-d', '--name', 'nomon-rm', '--network', 'none', 'busybox', 'sleep', '60'])).stdout.trim();
    const [conmon, pid] = (await env.ok(['container', 'inspect', '--format', '{{.State.ConmonPid}} {{.State.Pid}}', 'nomon-rm'])).stdout
      .trim()
      .split(' ')
      .map(Number);
    process.kill(conmon!, 'SIGKILL');
    assert.equal((await env.ok(['rm', '-f', '-t', '0', 'nomon-rm'])).stdout.trim(), 'nomon-rm');
    assert.equal((await env.berth(['container', 'exists', 'nomon-rm'])).code, 1);
    assert.equal(existsSync(join(env.root, 'containers', id)), false);
    assert.deepEqual(mountsUnder(join(env.root, 'containers', id)), []);
    // Ended, not merely orphaned: gone, or a zombie waiting for init.
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    assert.ok(stat === '' || stat[stat.lastIndexOf(')') + 2] === 'Z', `the container's process ${pid} still runs`);
  });

  it('a foreground run --rm cleans up itself before it returns', async () => {
    const r = await env.berth(['run', '--rm', '--name', 'fg', '--network', 'none', 'busybox', 'sh', '-c', 'exit 2']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal((await env.ok(['ps', '-a', '-q'])).stdout, '');
    assert.deepEqual(mountsUnder(env.root), []);
  });

  it("create and rm of one container read no other container's state file", async () => {
    const other = (await env.ok(['create', '--name', 'bystander', '--network', 'none', 'busybox', 'true'])).stdout.trim();
    // Unreadable as JSON: a command that reads it fails; create and rm of another container need not.
    writeFileSync(stateFile(other), '{');
    try {
      await env.ok(['create', '--name', 'mine', '--network', 'none', 'busybox', 'true']);
      await env.ok(['rm', 'mine']);
      assert.equal((await env.berth(['container', 'exists', 'mine'])).code, 1);
    } finally {
      // Back to a created container's state, so that rm takes it.
      writeFileSync(stateFile(other), JSON.stringify(containerRecord().state));
      await env.ok(['rm', 'bystander']);
    }
  });
});
