import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { berthBin, ok, run } from '../testing/cli.js';
import { containerEnv, type ContainerEnv, inspectContainer as inspect } from '../testing/containers.js';
import { waitFor as waitUntil } from '../testing/wait.js';

/** Every wait of this file is bounded at 15,000 ms. */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined> | T | undefined): Promise<T> => waitUntil(what, fn, 15_000);

describe('containers: run, exit codes and output', () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('runs a command in the foreground and leaves with its exit code', async () => {
    const r = await env.berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /^err$/m);
  });

  it('gives 127 for a command that is not there and 126 for one that cannot run', async () => {
    const missing = await env.berth(['run', '--rm', '--network', 'none', 'busybox', '/no/such/binary']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /^Error: .*not found/m);
    const notExec = await env.berth(['run', '--rm', '--network', 'none', 'busybox', '/etc/passwd']);
    assert.equal(notExec.code, 126, notExec.stderr);
    assert.match(notExec.stderr, /^Error: .*permission denied/im);
    // --rm removed them even though they never ran
    const ps = await env.ok(['ps', '-a', '-q']);
    assert.equal(ps.stdout, '');
  });

  it('gives 125 when berth itself fails', async () => {
    const r = await env.berth(['run', '--pull', 'never', 'no-such-image']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: no-such-image: image not known$/m);
  });

  it('passes stdin with -i', async () => {
    const r = await env.berth(['run', '-i', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello\nworld\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'HELLO\nWORLD\n');
  });

  it("gives -t a real terminal with the caller's size", async () => {
    const cmd = `stty cols 100 rows 40; ${berthBin} --root ${env.root} --runroot ${env.runRoot} run -it --rm --network none busybox sh -c 'tty; stty size; exit 5'`;
    // stdin stays open while it runs: script turns an EOF on its input into a byte for the terminal.
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    child.stdin.end();
    assert.equal(code, 5, out);
    // The container's terminal turns \n into \r\n; ours, raw, adds nothing.
    assert.equal(out, '/dev/pts/0\r\n40 100\r\n');
  });

  it("passes a resize of the caller's terminal on to the container's", async () => {
    // The terminal is resized from outside while the container sleeps; its second stty sees it.
    // One TIOCSWINSZ, as a terminal emulator resizes (stty rows/cols would make two, a signal each).
    const resize = `perl -e 'my $w = pack("S4", 50, 120, 0, 0); ioctl(STDIN, 0x5414, $w) or die "resize: $!"' < /dev/tty`;
    // The resize waits for the container's first answer (a marker file), so a slow start on a
    // loaded machine cannot put it before the container's terminal exists.
    const ready = `${env.dir}/resize-ready`;
    const cmd = `stty rows 40 cols 100; (while [ ! -e ${ready} ]; do sleep 0.1; done; ${resize}) & ${berthBin} --root ${env.root} --runroot ${env.runRoot} run -it --rm --network none -v ${env.dir}:/shared busybox sh -c 'stty size; touch /shared/resize-ready; sleep 2; stty size'`;
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    child.stdin.end();
    assert.equal(code, 0, out);
    assert.equal(out, '40 100\r\n50 120\r\n');
  });

  it('passes signals sent to a foreground run to the container', async () => {
    const child = spawn(
      berthBin,
      [
        '--root',
        env.root,
        '--runroot',
        env.runRoot,
        'run',
        '--rm',
        '--network',
        'none',
        'busybox',
        'sh',
        '-c',
        'trap "echo got-usr1; exit 9" USR1; echo ready; while true; do sleep 0.1; done',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the trap', async () => (out.includes('ready') ? true : undefined));
    child.kill('SIGUSR1');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 9);
    assert.match(out, /got-usr1/);
  });

  it('applies the image config and the flags: env, user, workdir, hostname, entrypoint', async () => {
    const r = await env.ok([
      'run',
      '--rm',
      '--network',
      'none',
      '-e',
      'FOO=bar',
      '--user',
      'nobody',
      '-w',
      '/tmp',
      '--hostname',
      'box',
      'busybox',
      'sh',
      '-c',
      'echo $FOO; id -u; id -g; pwd; hostname; cat /etc/hostname',
    ]);
    assert.equal(r.stdout, 'bar\n65534\n65534\n/tmp\nbox\nbox\n');
    const ep = await env.ok(['run', '--rm', '--network', 'none', '--entrypoint', 'echo', 'busybox', 'a', 'b']);
    assert.equal(ep.stdout, 'a b\n');
    const numeric = await env.ok(['run', '--rm', '--network', 'none', '-u', '1234:5678', 'busybox', 'id']);
    assert.match(numeric.stdout, /uid=1234\(1234\) gid=5678\(5678\)/); // named by the passwd and group lines podman adds
  });

  it('runs with runc as well as crun', async () => {
    const r = await env.berth(['run', '--rm', '--runtime', 'runc', '--network', 'none', 'busybox', 'sh', '-c', 'echo via runc; exit 4']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'via runc\n');
  });

  it("isolates the network: none has only loopback, host sees the host's interfaces", async () => {
    const none = await env.ok(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']);
    assert.deepEqual(none.stdout.trim().split(/\s+/), ['lo']);
    const host = await env.ok(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
    assert.ok(host.stdout.trim().split(/\s+/).length > 1, host.stdout);
  });

  it('gives slirp4netns a tap device with its addresses', async () => {
    const r = await env.ok(['run', '--rm', '--network', 'slirp4netns', 'busybox', 'sh', '-c', 'ip -4 addr show tap0; cat /etc/resolv.conf']);
    assert.match(r.stdout, /inet 10\.0\.2\.100\//);
    assert.match(r.stdout, /nameserver 10\.0\.2\.3/);
  });
});

describe('containers: lifecycle', () => {
  let env: ContainerEnv;
  before(async () => (env = await containerEnv()));
  after(() => env?.cleanup());

  it('run -d returns at once; ps, inspect, logs, stop and wait see the container', async () => {
    const d = await env.ok(['run', '-d', '--name', 'sleeper', '--network', 'none', 'busybox', 'sh', '-c', 'echo started; exec sleep 300']);
    const id = d.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = await env.ok(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /^sleeper Up /m);
    const state = await inspect(env, 'sleeper');
    assert.equal(state.State.Status, 'running');
    assert.ok(state.State.Pid > 0 && state.State.ConmonPid > 0);
    await waitFor('the log line', async () => ((await env.ok(['logs', 'sleeper'])).stdout === 'started\n' ? true : undefined));
    const stop = await env.ok(['stop', '-t', '1', 'sleeper']);
    assert.equal(stop.stdout, 'sleeper\n');
    // sleep ignores nothing, but as PID 1 SIGTERM has no default action: killed after the timeout.
    const after = await inspect(env, 'sleeper');
    assert.equal(after.State.Status, 'exited');
    assert.equal(after.State.ExitCode, 137);
    assert.equal((await env.ok(['wait', 'sleeper'])).stdout, '137\n');
    const json = JSON.parse((await env.ok(['ps', '-a', '--format', 'json'])).stdout) as { Names: string[]; State: string; ExitCode: number }[];
    assert.deepEqual(
      json.map((c) => [c.Names[0], c.State, c.ExitCode]),
      [['sleeper', 'exited', 137]],
    );
    await env.ok(['rm', 'sleeper']);
  });

  it("keeps the container's changes across stop and start, and drops them with rm", async () => {
    await env.ok(['run', '--name', 'writer', '--network', 'none', 'busybox', 'sh', '-c', 'echo kept > /data.txt']);
    await env.ok(['start', 'writer']);
    assert.equal((await env.ok(['wait', 'writer'])).stdout, '0\n');
    const diff = await env.ok(['diff', 'writer']);
    assert.match(diff.stdout, /^A \/data\.txt$/m);
    const out = join(env.dir, 'out');
    mkdirSync(out);
    await env.ok(['cp', 'writer:/data.txt', out]);
    assert.equal(readFileSync(join(out, 'data.txt'), 'utf8'), 'kept\n');
    writeFileSync(join(out, 'in.txt'), 'from host\n');
    await env.ok(['cp', join(out, 'in.txt'), 'writer:/in.txt']);
    const exported = await run('sh', [
      '-c',
      `${berthBin} --root ${env.root} --runroot ${env.runRoot} export writer | tar -tf - | grep -E '^(\\./)?(data|in)\\.txt$' | sort`,
    ]);
    assert.deepEqual(
      exported.stdout
        .trim()
        .split('\n')
        .map((l) => l.replace(/^\.\//, '')),
      ['data.txt', 'in.txt'],
    );
    const commit = await env.ok(['commit', '-q', '-c', 'CMD ["cat", "/data.txt", "/in.txt"]', 'writer', 'committed']);
    assert.match(commit.stdout, /^[0-9a-f]{64}\n$/);
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'committed'])).stdout, 'kept\nfrom host\n');
    await env.ok(['rm', 'writer']);
    // Without changes the image runs what the container ran, with its environment and working
    // directory, as podman's and docker's commit make it.
    await env.ok([
      'run',
      '--name',
      'echoer',
      '--network',
      'none',
      '-e',
      'GREETING=hi',
      '-w',
      '/tmp',
      '--entrypoint',
      '["/bin/sh","-c","echo $GREETING from $PWD"]',
      'busybox',
    ]);
    await env.ok(['commit', '-q', 'echoer', 'echo-image']);
    assert.equal((await env.ok(['run', '--rm', '--network', 'none', 'echo-image'])).stdout, 'hi from /tmp\n');
    const committed = JSON.parse((await env.ok(['image', 'inspect', '--format', '{{json .Config}}', 'echo-image'])).stdout) as {
      Env: string[];
      Cmd?: string[];
    };
    assert.ok(committed.Env.includes('GREETING=hi'));
    assert.ok(!committed.Env.some((e) => /^(HOSTNAME|container)=/.test(e)), 'what each start sets is not kept');
    assert.equal(committed.Cmd, undefined);
    await env.ok(['rm', 'echoer']);
    await env.ok(['rmi', 'echo-image']);
    const fresh = await env.berth(['run', '--rm', '--network', 'none', 'busybox', 'cat', '/data.txt']);
    assert.equal(fresh.code, 1);
  });

  it('refuses to remove a running container without -f, and an image in use', async () => {
    await env.ok(['run', '-d', '--name', 'busy', '--network', 'none', 'busybox', 'sleep', '300']);
    const rm = await env.berth(['rm', 'busy']);
    assert.equal(rm.code, 2, 'podman rm exits 2 for a running container');
    assert.match(rm.stderr, /cannot remove container .* as it is running/);
    const rmi = await env.berth(['rmi', 'busybox']);
    assert.equal(rmi.code, 2); // podman's code for an image in use
    assert.match(rmi.stderr, /image is in use by a container/);
    assert.equal((await env.ok(['rm', '-f', 'busy'])).stdout, 'busy\n');
    assert.equal((await env.berth(['container', 'exists', 'busy'])).code, 1);
  });

  it('refuses to remove a container others use the namespaces of, -f too; --depend removes them first, as podman 4.3', async () => {
    const base = (await env.ok(['create', '--name', 'base', '--network', 'none', 'busybox'])).stdout.trim();
    const mid = (await env.ok(['create', '--name', 'mid', '--network', 'container:base', 'busybox'])).stdout.trim();
    const leaf = (await env.ok(['create', '--name', 'leaf', '--network', 'container:mid', 'busybox'])).stdout.trim();
    // podman's line and exit code, checked by hand.
    for (const args of [
      ['rm', 'base'],
      ['rm', '-f', 'base'],
    ]) {
      const r = await env.berth(args);
      assert.equal(r.code, 125);
      assert.equal(r.stderr, `Error: container ${base} has dependent containers which must be removed before it: ${mid}: container already exists\n`);
    }
    const r = await env.ok(['rm', '--depend', 'base']);
    assert.equal(r.stdout, `${leaf}\n${mid}\nbase\n`);
    assert.equal((await env.ok(['ps', '-a', '--filter', 'name=base', '--filter', 'name=mid', '--filter', 'name=leaf', '-q'])).stdout, '');
  });

  it('sees a container killed from outside as exited', async () => {
    await env.ok(['run', '-d', '--name', 'victim', '--network', 'none', 'busybox', 'sleep', '300']);
    const { State } = await inspect(env, 'victim');
    process.kill(State.Pid as number, 'SIGKILL');
    const code = await env.ok(['wait', 'victim']);
    assert.equal(code.stdout, '137\n');
    assert.match((await env.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout, /^victim Exited \(137\) /m);
    await env.ok(['rm', 'victim']);
  });

  it('exec runs in the running container with its exit code', async () => {
    await env.ok(['run', '-d', '--name', 'host1', '--network', 'none', '-e', 'FROM_RUN=1', 'busybox', 'sleep', '300']);
    const r = await env.berth(['exec', '-e', 'X=y', 'host1', 'sh', '-c', 'echo $FROM_RUN$X; exit 7']);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, '1y\n');
    const missing = await env.berth(['exec', 'host1', 'nosuchcmd']);
    assert.equal(missing.code, 127);
    // The container's `/` is r-xr-xr-x, as podman's, whatever the image's tar says (busybox's gives 0700).
    assert.equal((await env.ok(['exec', 'host1', 'stat', '-c', '%a', '/'])).stdout, '555\n');
    // The same for a container committed before its first start (the commit makes its upper).
    await env.ok(['create', '--name', 'early-commit', '--network', 'none', 'busybox', 'sleep', '100']);
    await env.ok(['commit', '-q', 'early-commit', 'early-commit-image']);
    await env.ok(['start', 'early-commit']);
    assert.equal((await env.ok(['exec', 'early-commit', 'stat', '-c', '%a', '/'])).stdout, '555\n');
    await env.ok(['rm', '-f', '-t', '0', 'early-commit']);
    await env.ok(['rmi', 'early-commit-image']);
    const piped = await env.ok(['exec', '-i', 'host1', 'cat'], { input: 'through\n' });
    assert.equal(piped.stdout, 'through\n');
    const top = await env.ok(['top', 'host1']);
    assert.match(top.stdout, /^USER\s+PID\s+PPID\s+%CPU\s+ELAPSED\s+TTY\s+TIME\s+COMMAND$/m);
    assert.match(top.stdout, /^root\s+1\s+0\s+.*sleep 300$/m);
    const picked = await env.ok(['top', 'host1', 'pid,comm']);
    assert.match(picked.stdout, /^PID\s+COMMAND\n1\s+sleep\n$/);
    // ps(1)'s own options: the container's ps runs with them, as in podman.
    const ps = await env.ok(['top', 'host1', '-eo', 'pid,comm']);
    assert.match(ps.stdout, /^\s*PID\s+COMMAND\n\s*1\s+sleep\n/);
    assert.match((await env.ok(['top', 'host1', '-o', 'pid,comm'])).stdout, /^\s*1\s+sleep$/m);
    const notPaused = await env.berth(['unpause', 'host1']);
    assert.equal(notPaused.code, 125);
    assert.equal(notPaused.stderr, 'Error: "host1" is not paused, can\'t unpause: container state improper\n');
    await env.ok(['pause', 'host1']);
    assert.equal((await inspect(env, 'host1')).State.Status, 'paused');
    // podman 4.3's STATUS for it.
    assert.equal((await env.ok(['ps', '-a', '--filter', 'name=host1', '--format', '{{.Status}}'])).stdout, 'Paused\n');
    const notRunning = await env.berth(['pause', 'host1']);
    assert.equal(notRunning.code, 125);
    assert.equal(notRunning.stderr, 'Error: "host1" is not running, can\'t pause: container state improper\n');
    await env.ok(['unpause', 'host1']);
    assert.equal((await inspect(env, 'host1')).State.Status, 'running');
    await env.ok(['rm', '-f', 'host1']);
  });

  it('gives a name to one of two containers created with it at once', async () => {
    const [a, b] = await Promise.all([
      env.berth(['create', '--name', 'twin', '--network', 'none', 'busybox']),
      env.berth(['create', '--name', 'twin', '--network', 'none', 'busybox']),
    ]);
    assert.deepEqual([a.code, b.code].sort(), [0, 125]);
    assert.match((a.code ? a : b).stderr, /the container name "twin" is already in use/);
    await env.ok(['rename', 'twin', 'single']);
    assert.equal((await env.ok(['ps', '-a', '--format', '{{.Names}}', '--filter', 'name=single'])).stdout, 'single\n');
    await env.ok(['rm', 'single']);
  });

  it('restarts a failing container under on-failure:2, and no more', async () => {
    await env.ok(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', '--network', 'none', 'busybox', 'sh', '-c', 'echo try; exit 1']);
    await waitFor('two restarts', async () => {
      const s = await inspect(env, 'flaky');
      return s.RestartCount === 2 && s.State.Status === 'exited' ? true : undefined;
    });
    await sleep(500);
    assert.equal((await inspect(env, 'flaky')).RestartCount, 2);
    assert.equal((await env.ok(['logs', 'flaky'])).stdout, 'try\ntry\ntry\n');
    await env.ok(['rm', 'flaky']);
  });

  it('logs --tail, --timestamps and --follow', async () => {
    await env.ok(['run', '-d', '--name', 'talker', '--network', 'none', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; done; sleep 1; echo last']);
    const followed = await env.ok(['logs', '-f', 'talker']);
    assert.equal(followed.stdout, 'line1\nline2\nline3\nlast\n');
    assert.equal((await env.ok(['logs', '--tail', '2', 'talker'])).stdout, 'line3\nlast\n');
    assert.match((await env.ok(['logs', '-t', '--tail', '1', 'talker'])).stdout, /^\d{4}-\d\d-\d\dT\S+ last\n$/);
    await env.ok(['rm', 'talker']);
  });

  it('--log-driver none: the output still reaches the caller, no log is kept, logs refuses as podman does', async () => {
    const r = await env.ok(['run', '--name', 'quiet', '--log-driver', 'none', '--network', 'none', 'busybox', 'sh', '-c', 'echo attached; echo err >&2']);
    assert.equal(r.stdout, 'attached\n');
    assert.equal(r.stderr, 'err\n');
    const c = await inspect(env, 'quiet');
    assert.equal(c.HostConfig.LogConfig.Type, 'none');
    assert.equal(existsSync(join(env.root, 'containers', c.Id, 'userdata', 'ctr.log')), false);
    // podman 4.3's line and exit code, checked by hand.
    const logs = await env.berth(['logs', 'quiet']);
    assert.equal(logs.code, 125);
    assert.equal(logs.stderr, "Error: this container is using the 'none' log driver, cannot read logs: this container is not logging output\n");
    await env.ok(['rm', 'quiet']);
    // A detached one: nothing logged, and an attach still gets its output.
    await env.ok(['run', '-d', '--name', 'quiet-bg', '--log-driver', 'none', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 1; echo late']);
    assert.equal((await env.ok(['attach', 'quiet-bg'])).stdout, 'late\n');
    await env.ok(['rm', 'quiet-bg']);
    // json-file is podman's alias for k8s-file; others are refused before anything is made.
    assert.equal((await env.ok(['run', '--rm', '--log-driver', 'json-file', '--network', 'none', 'busybox', 'echo', 'kept'])).stdout, 'kept\n');
    const before = (await env.ok(['ps', '-aq'])).stdout;
    const bogus = await env.berth(['run', '--rm', '--log-driver', 'bogus', 'busybox', 'true']);
    assert.equal(bogus.code, 125);
    assert.equal(bogus.stderr, 'Error: invalid log driver: bogus\n');
    assert.equal((await env.ok(['ps', '-aq'])).stdout, before);
  });

  it('notices a restart of the machine: running containers become exited', async () => {
    await env.ok(['run', '-d', '--name', 'survivor', '--network', 'none', 'busybox', 'sleep', '300']);
    const { State } = await inspect(env, 'survivor');
    // A reboot: every process gone, the tmpfs run root empty, the mounts gone.
    process.kill(State.ConmonPid as number, 'SIGKILL');
    process.kill(State.Pid as number, 'SIGKILL');
    await sleep(200);
    await run('sh', ['-c', `umount -l ${join(env.root, 'containers')}/*/merged 2>/dev/null; true`]);
    rmSync(env.runRoot, { recursive: true, force: true });
    const s = await inspect(env, 'survivor');
    assert.equal(s.State.Status, 'exited');
    await env.ok(['start', 'survivor']);
    assert.equal((await inspect(env, 'survivor')).State.Status, 'running');
    await env.ok(['rm', '-f', 'survivor']);
  });

  it('leaves a container that rm removes after berth is killed during run', async () => {
    const child = spawn(berthBin, ['--root', env.root, '--runroot', env.runRoot, 'run', '--name', 'orphan', '--network', 'none', 'busybox', 'sleep', '300'], {
      stdio: 'ignore',
    });
    await waitFor('the container to run', async () => {
      const r = await env.berth(['ps', '-q', '--filter', 'name=orphan']);
      return r.stdout.trim() ? true : undefined;
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const id = (await env.ok(['ps', '-a', '-q', '--no-trunc', '--filter', 'name=orphan'])).stdout.trim();
    await env.ok(['rm', '-f', 'orphan']);
    assert.equal((await env.berth(['container', 'exists', 'orphan'])).code, 1);
    assert.ok(!existsSync(join(env.root, 'containers', id)));
    assert.equal((await run('sh', ['-c', `grep -c ${id} /proc/mounts || true`])).stdout.trim(), '0');
  });
});

describe('containers: interop', () => {
  it('a committed image is a valid image for podman', { skip: false }, async () => {
    const env = await containerEnv();
    try {
      await env.ok(['run', '--name', 'c', '--network', 'none', 'busybox', 'sh', '-c', 'echo podman-sees-this > /msg']);
      await env.ok(['commit', '-q', '-c', 'CMD ["cat", "/msg"]', 'c', 'for-podman']);
      const archive = join(env.dir, 'img.tar');
      await env.ok(['save', '-o', archive, 'for-podman']);
      const { podmanArgs } = await import('../testing/cli.js');
      const p = podmanArgs(env.dir);
      await ok('podman', [...p, 'load', '-i', archive]);
      const r = await ok('podman', [
        ...p,
        'run',
        '--rm',
        '--network',
        'none',
        '--ulimit',
        'nofile=20000:20000',
        '--ulimit',
        'nproc=4096:4096',
        'localhost/for-podman',
      ]);
      assert.equal(r.stdout, 'podman-sees-this\n');
      await run('podman', [...p, 'rmi', '-af']);
    } finally {
      env.cleanup();
    }
  });
});
