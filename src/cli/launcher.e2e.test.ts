import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthBin } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';

// bin/berth must keep the caller's arguments and environment away from Node's own options: Node 20
// reads `--env-file` anywhere in argv, and NODE_OPTIONS (from the caller or from such a file) can
// `--require` any file into a berth that runs as root.
describe('the berth launcher', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  let payload: string;
  let marker: string;
  let envFile: string;
  before(async () => {
    env = await containerEnv();
    marker = join(env.dir, 'payload-ran');
    payload = join(env.dir, 'payload.cjs');
    writeFileSync(payload, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    envFile = join(env.dir, 'env');
    writeFileSync(envFile, `NODE_OPTIONS=--require ${payload}\nGREETING=hello\n`);
  });
  after(() => env?.cleanup());

  const assertPayloadNeverRan = () => assert.equal(existsSync(marker), false, 'node loaded the --require payload');

  test('an --env-file is read by berth for the container, never by node, wherever it stands', async () => {
    const created = await env.berth(['create', '--name', 'c1', '--env-file', envFile, 'busybox', 'true']);
    assert.equal(created.code, 0, created.stderr);
    const joined = await env.berth(['create', '--name', 'c2', `--env-file=${envFile}`, 'busybox', 'true']);
    assert.equal(joined.code, 0, joined.stderr);
    // Not an option of `version`: berth says so, node must not have taken it first.
    const misplaced = await env.berth(['version', '--env-file', envFile]);
    assert.notEqual(misplaced.code, 9, misplaced.stderr);
    assert.doesNotMatch(misplaced.stderr, /^node:/m);
    // After the image: an argument of the container's command.
    const last = await env.berth(['run', '--rm', '--network', 'none', 'busybox', 'true', '--env-file', envFile]);
    assert.equal(last.code, 0, last.stderr);
    // The file still does its job: the container gets its variables.
    const seen = await env.ok(['run', '--rm', '--network', 'none', '--env-file', envFile, 'busybox', 'sh', '-c', 'echo "$GREETING|$NODE_OPTIONS"']);
    assert.equal(seen.stdout.trim(), `hello|--require ${payload}`);
    assertPayloadNeverRan();
  });

  test("the caller's NODE_OPTIONS does not reach berth's node", async () => {
    const r = await env.berth(['version'], { env: { NODE_OPTIONS: `--require ${payload}` } });
    assert.equal(r.code, 0, r.stderr);
    assertPayloadNeverRan();
  });

  test("a missing --env-file is berth's one-line error with exit 125, not node's", async () => {
    const missing = join(env.dir, 'no-such-env-file');
    for (const command of ['create', 'run']) {
      const r = await env.berth([command, '--env-file', missing, 'busybox', 'true']);
      assert.equal(r.code, 125, `${command}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^Error: .*no-such-env-file/);
    }
  });

  test("conmon calls berth back through the launcher, and that cleanup runs without the caller's NODE_OPTIONS", async () => {
    const hostile = { NODE_OPTIONS: `--require ${payload}` };
    const id = (await env.ok(['run', '-d', '--network', 'none', 'busybox', 'sleep', '30'], { env: hostile })).stdout.trim();
    const pid = Number((await env.ok(['inspect', '--format', '{{.State.ConmonPid}}', id])).stdout.trim());
    assert.ok(pid > 0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const exitArgs = cmdline.flatMap((a, i) => (cmdline[i - 1] === '--exit-command-arg' ? [a] : []));
    assert.ok(exitArgs.includes(realpathSync(berthBin)), `exit command: ${exitArgs.join(' ')}`);
    assert.ok(!exitArgs.includes(process.execPath), `exit command: ${exitArgs.join(' ')}`);
    // A container that exits by itself is cleaned up by that callback: --rm removes it.
    const rm = (await env.ok(['run', '-d', '--rm', '--network', 'none', 'busybox', 'true'], { env: hostile })).stdout.trim();
    const deadline = Date.now() + 60_000;
    while ((await env.ok(['ps', '-a', '-q', '--no-trunc'])).stdout.includes(rm)) {
      assert.ok(Date.now() < deadline, 'the --rm container was not removed by its cleanup');
      await new Promise((r) => setTimeout(r, 200));
    }
    await env.ok(['rm', '-f', '-t', '0', id]);
    assertPayloadNeverRan();
  });

  test('kube play and pod start have conmon call back the same berth too, not whichever is on PATH', async () => {
    const exitCommandOf = async (name: string) => {
      const pid = Number((await env.ok(['inspect', '--format', '{{.State.ConmonPid}}', name])).stdout.trim());
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmdline.flatMap((a, i) => (cmdline[i - 1] === '--exit-command-arg' ? [a] : []));
    };
    const yaml = join(env.dir, 'sleeper.yaml');
    writeFileSync(
      yaml,
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: sleeper\nspec:\n  containers:\n  - name: ctr\n    image: busybox\n    command: ["sleep", "600"]\n',
    );
    await env.ok(['kube', 'play', yaml]);
    assert.ok((await exitCommandOf('sleeper-ctr')).includes(realpathSync(berthBin)));
    await env.ok(['pod', 'stop', '-t', '0', 'sleeper']);
    await env.ok(['pod', 'start', 'sleeper']);
    assert.ok((await exitCommandOf('sleeper-ctr')).includes(realpathSync(berthBin)));
    await env.ok(['pod', 'rm', '-f', '-t', '0', 'sleeper']);
  });

  test('a reader that stops early ends berth quietly with the SIGPIPE status (141), not a Node stack trace', async () => {
    const child = spawn(berthBin, ['--root', env.root, '--runroot', env.runRoot, 'images'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Our end of its stdout closed before it writes (its start takes far longer): its first write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 141);
    assert.equal(stderr, '');
  });
});
