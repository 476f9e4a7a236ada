import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { berthBin, killGroup } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

const NONE = ['--network', 'none'];

/** One argument for sh, quoted whole: the command line `script` hands to the shell is ours alone. */
const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** A berth command with a terminal of its own (util-linux `script`), typed into as a user would. */
interface Session {
  output(): string;
  /** Resolves once the output contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  type(bytes: string): void;
  /** The exit code (script passes on its command's), killing everything after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number | null>;
}

function inTerminal(env: ContainerEnv, args: string[], stdio: 'script' | 'pipe' = 'script', setup = ''): Session {
  const argv = [berthBin, '--root', env.root, '--runroot', env.runRoot, ...args];
  // A session of its own, so that a timeout can kill it and whatever it started.
  const child: ChildProcess =
    stdio === 'script'
      ? spawn('script', ['-qec', `${setup}${argv.map(shellQuote).join(' ')}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
      : spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => out,
    async waitFor(text, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}; output: ${JSON.stringify(out)}`);
        await sleep(50);
      }
    },
    type: (bytes) => child.stdin!.write(Buffer.from(bytes, 'latin1')),
    async exit(timeoutMs = 20_000) {
      const timer = setTimeout(() => killGroup(child.pid), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      child.stdin!.end();
      return code;
    },
  };
}

async function status(env: ContainerEnv, name: string): Promise<string> {
  return (await env.ok(['inspect', '--format', '{{.State.Status}}', name])).stdout.trim();
}

describe('attach: detach keys', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('run -it: ctrl-p ctrl-q detaches, exit 0, and the container runs on', async () => {
    const s = inTerminal(env, ['run', '-it', '--name', 'rundetach', ...NONE, 'busybox', 'sh', '-c', 'echo ready; sleep 100']);
    await s.waitFor('ready');
    s.type('\x10');
    await sleep(100);
    s.type('\x11');
    assert.equal(await s.exit(), 0, s.output());
    assert.equal(await status(env, 'rundetach'), 'running');
    // Attached again, ctrl-p ctrl-q in one write detaches as well.
    const again = inTerminal(env, ['attach', 'rundetach']);
    await sleep(1000);
    again.type('\x10\x11');
    assert.equal(await again.exit(), 0, again.output());
    assert.equal(await status(env, 'rundetach'), 'running');
    await env.ok(['rm', '-f', '-t', '0', 'rundetach']);
  });

  it('--detach-keys takes a custom sequence; the default then passes through', async () => {
    await env.ok(['run', '-dit', '--name', 'custom', ...NONE, 'busybox', 'sh', '-c', 'read x; echo "got:$x"; read y; exit 3']);
    const s = inTerminal(env, ['attach', '--detach-keys', 'ctrl-x,y', 'custom']);
    await sleep(1000);
    // ctrl-p alone is not our sequence: the container's shell reads it.
    s.type('a\x10b\r');
    await s.waitFor('got:a');
    s.type('\x18y');
    assert.equal(await s.exit(), 0, s.output());
    assert.equal(await status(env, 'custom'), 'running');
    assert.match(s.output(), /got:a\x10b/);
    await env.ok(['rm', '-f', '-t', '0', 'custom']);
  });

  it('--detach-keys "" turns detaching off: ctrl-p ctrl-q reach the container', async () => {
    const s = inTerminal(env, ['run', '-it', '--rm', '--detach-keys', '', ...NONE, 'busybox', 'sh', '-c', 'echo ready; read x; echo "len:${#x}"; exit 7']);
    await s.waitFor('ready');
    // The container's terminal drops ctrl-q (XON); ctrl-p arrives as a character.
    s.type('\x10\x11z\r');
    assert.equal(await s.exit(), 7, s.output());
    assert.match(s.output(), /len:2/);
  });

  it('start -ai detaches too, leaving the container running', async () => {
    await env.ok(['create', '-it', '--name', 'startai', ...NONE, 'busybox', 'sh', '-c', 'echo ready; sleep 100']);
    const s = inTerminal(env, ['start', '-ai', 'startai']);
    await s.waitFor('ready');
    s.type('\x10\x11');
    assert.equal(await s.exit(), 0, s.output());
    assert.equal(await status(env, 'startai'), 'running');
    await env.ok(['rm', '-f', '-t', '0', 'startai']);
  });

  it('exec -i detaches from the process with the keys typed on its terminal', async () => {
    await env.ok(['run', '-d', '--name', 'execd', ...NONE, 'busybox', 'sleep', '100']);
    // Without -t the terminal stays in its line mode: what is typed arrives with the Enter, and
    // ctrl-q reaches a program only where the terminal does not take it for flow control.
    const s = inTerminal(env, ['exec', '-i', 'execd', 'sh', '-c', 'echo ready; sleep 60'], 'script', 'stty -ixon; ');
    await s.waitFor('ready');
    const t0 = Date.now();
    s.type('\x10\x11\r');
    assert.equal(await s.exit(), 0, s.output());
    assert.ok(Date.now() - t0 < 10_000, 'exec left on the detach keys, not when its process ended');
    assert.equal(await status(env, 'execd'), 'running');
    await env.ok(['rm', '-f', '-t', '0', 'execd']);
  });

  it('bytes piped into run -i and exec -i pass untouched: a ctrl-p ctrl-q in them is data, as with podman', async () => {
    // 64 KiB holding the default sequence many times over, and a NUL.
    const data = Buffer.concat(Array.from({ length: 4096 }, (_, i) => Buffer.from([0x10, 0x11, i & 0xff, 0, 0x71, 0x10, 0x0a, 0x11, 1, 2, 3, 4, 5, 6, 7, 8])));
    const sum = createHash('sha256').update(data).digest('hex');
    const run = await env.berth(['run', '-i', '--rm', ...NONE, 'busybox', 'sh', '-c', 'sha256sum; echo end >&2'], { input: data });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${sum}  -\n`);
    assert.equal(run.stderr, 'end\n');
    await env.ok(['run', '-d', '--name', 'piped', ...NONE, 'busybox', 'sleep', '100']);
    const exec = await env.berth(['exec', '-i', 'piped', 'sh', '-c', 'sha256sum; echo end >&2'], { input: data });
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout, `${sum}  -\n`);
    assert.equal(exec.stderr, 'end\n');
    await env.ok(['rm', '-f', '-t', '0', 'piped']);
  });

  it("refuses invalid detach keys with podman's message, before doing anything", async () => {
    await env.ok(['create', '--name', 'keys', ...NONE, 'busybox', 'true']);
    for (const args of [
      ['run', '--rm', '--detach-keys', 'foo', 'busybox', 'true'],
      ['start', '-a', '--detach-keys', 'ctrl-1', 'keys'],
      ['attach', '--detach-keys', 'ctrl-A', 'keys'],
      ['exec', '--detach-keys', 'ab', 'keys', 'true'],
    ]) {
      const r = await env.berth(args);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, /^Error: invalid detach keys: Unknown character: '(foo|ctrl-1|ctrl-A|ab)'\n$/, args.join(' '));
    }
    const ps = await env.ok(['ps', '-a', '--format', '{{.Names}}']);
    assert.equal(ps.stdout, 'keys\n', 'nothing was created');
    await env.ok(['rm', 'keys']);
  });
});

describe('attach: -t and -i without a terminal', { timeout: 120_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('run -it with stdin not a terminal warns as podman does and runs', async () => {
    const r = await env.berth(['run', '--rm', '-it', ...NONE, 'busybox', 'echo', 'hello'], { input: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^time="[^"]+" level=warning msg="The input device is not a TTY\. The --tty and --interactive flags might not work properly"\n$/);
    assert.equal(r.stdout, 'hello\r\n');
  });

  it("-t alone, -i alone and exec -it do not warn; exec -t runs without a terminal on stdin, as podman's", async () => {
    for (const args of [
      ['run', '--rm', '-t', ...NONE, 'busybox', 'true'],
      ['run', '--rm', '-i', ...NONE, 'busybox', 'true'],
    ]) {
      const r = await env.berth(args, { input: '' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '', args.join(' '));
    }
    await env.ok(['run', '-d', '--name', 'ex', ...NONE, 'busybox', 'sleep', '100']);
    for (const flags of [['-it'], ['-t']]) {
      const r = await env.berth(['exec', ...flags, 'ex', 'echo', 'hi'], { input: '' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, 'hi\n');
    }
    // On a terminal, exec -it gives the process one.
    const s = inTerminal(env, ['exec', '-it', 'ex', 'sh', '-c', 'tty; exit 4']);
    assert.equal(await s.exit(), 4, s.output());
    assert.match(s.output(), /\/dev\/pts\/\d+\r\n/);
    await env.ok(['rm', '-f', '-t', '0', 'ex']);
  });
});

describe('attach: --attach names the streams a run shows', { timeout: 120_000 }, () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  const both = ['sh', '-c', 'echo out; echo err >&2'];

  it('-a stderr shows only stderr, -a stdout only stdout; the log keeps both', async () => {
    const err = await env.berth(['run', '--name', 'erronly', '-a', 'stderr', ...NONE, 'busybox', ...both]);
    assert.equal(err.code, 0, err.stderr);
    assert.equal(err.stdout, '');
    assert.equal(err.stderr, 'err\n');
    const logs = await env.ok(['logs', 'erronly']);
    assert.equal(logs.stdout, 'out\n');
    assert.equal(logs.stderr, 'err\n');
    const out = await env.berth(['run', '--rm', '--attach=STDOUT', ...NONE, 'busybox', ...both]);
    assert.equal(out.stdout, 'out\n');
    assert.equal(out.stderr, '');
    await env.ok(['rm', 'erronly']);
  });

  it('-i with -a stdin -a stdout sends the input and shows the output; create takes only the set start -a attaches', async () => {
    const r = await env.berth(['run', '--rm', '-i', '-a', 'stdin', '-a', 'stdout', ...NONE, 'busybox', 'cat'], { input: 'through\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'through\n');
    const refused = await env.berth(['create', '-a', 'stdout', ...NONE, 'busybox', 'true']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /^Error: --attach stdout is not supported by create: /);
    // Attached to no output, the run prints the container's ID, as podman's.
    const idOnly = await env.ok(['run', '--name', 'inonly', '-a', 'stdin', ...NONE, 'busybox', 'echo', 'hello']);
    assert.equal(idOnly.stdout, `${(await env.ok(['inspect', '--format', '{{.Id}}', 'inonly'])).stdout.trim()}\n`);
    await env.ok(['rm', 'inonly']);
    const bad = await env.berth(['run', '--rm', '-a', 'stdnone', ...NONE, 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid stream "stdnone" for --attach/);
    assert.equal((await env.ok(['ps', '-a', '-q'])).stdout, '', 'nothing was made');
  });
});
