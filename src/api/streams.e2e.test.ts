// The streaming side of the containers API against the real docker CLI (and raw requests where
// the CLI hides the wire): run and attach, exec, logs, cp, stats, and the plain (not hijacked)
// forms dockerode uses.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthService, type BerthService } from '../testing/berth-service.js';
import { run, type RunResult } from '../testing/cli.js';

/** One argument for sh, quoted whole: the command line `script` hands to the shell is ours alone. */
const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** Docker's multiplexed stream split back into stdout and stderr; throws on a broken frame. */
function demux(body: Buffer): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  for (let i = 0; i < body.length; ) {
    assert.ok(i + 8 <= body.length, 'a frame header is cut short');
    const stream = body[i]!;
    const size = body.readUInt32BE(i + 4);
    const data = body.subarray(i + 8, i + 8 + size).toString();
    if (stream === 1) out.stdout += data;
    else if (stream === 2) out.stderr += data;
    else assert.fail(`frame of stream ${stream}`);
    i += 8 + size;
  }
  return out;
}

describe('API streams: attach, exec, logs, archive, stats', { timeout: 10 * 60_000 }, () => {
  let svc: BerthService;
  /** The docker CLI inside a terminal of its own (`script`), its size set first. */
  let inTerminal: (dockerArgs: string[], input?: string) => Promise<RunResult>;
  before(async () => {
    svc = await berthService();
    inTerminal = (dockerArgs, input) =>
      run('script', ['-qec', `stty rows 31 cols 97; ${['docker', ...dockerArgs].map(shellQuote).join(' ')}`, '/dev/null'], {
        env: { DOCKER_HOST: svc.dockerHost, DOCKER_CONFIG: join(svc.dir, 'docker-config') },
        ...(input !== undefined ? { input } : {}),
      });
  });
  after(async () => {
    await svc?.stop();
    svc?.cleanup();
  });

  test('docker run: exit codes 0 and 3, stdout and stderr apart', async () => {
    const ok = await svc.docker(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'fine']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'fine\n');
    const r = await svc.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('docker run -i: piped stdin reaches the container and its end ends the input', async () => {
    const r = await svc.docker(['run', '--rm', '-i', '--network', 'none', 'busybox', 'sh', '-c', 'wc -l; exit 5'], { input: 'a\nb\nc\n' });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stdout.trim(), '3');
  });

  test('docker run -it in a terminal: a TTY of the client’s size, typed input, the exit code', async () => {
    const r = await inTerminal(
      ['run', '--rm', '-it', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 0.3; tty; stty -a | head -n 1; read x; echo "got $x"; exit 6'],
      'typed\n',
    );
    assert.equal(r.code, 6, r.stdout);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /rows 31; columns 97;/);
    assert.match(r.stdout, /got typed/);
  });

  test('docker attach to a running container: its output and exit code', async () => {
    await svc.ok(['run', '-d', '--name', 'st-attach', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 1.5; echo late; echo lateerr >&2; exit 4']);
    const r = await svc.docker(['attach', 'st-attach']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'late\n');
    assert.equal(r.stderr, 'lateerr\n');
    // With stdin: what is piped in reaches the running container's open stdin.
    await svc.ok(['run', '-d', '-i', '--name', 'st-attach-in', '--network', 'none', 'busybox', 'sh', '-c', 'read line; echo "read $line"; exit 2']);
    const fed = await svc.docker(['attach', 'st-attach-in'], { input: 'hello\n' });
    assert.equal(fed.code, 2, fed.stderr);
    assert.equal(fed.stdout, 'read hello\n');
    // docker start -a: attached to a created container before the API's start, so no output is missed.
    await svc.ok(['create', '--name', 'st-start-a', '--network', 'none', 'busybox', 'sh', '-c', 'echo first; exit 6']);
    const started = await svc.docker(['start', '-a', 'st-start-a']);
    assert.equal(started.code, 6, started.stderr);
    assert.equal(started.stdout, 'first\n');
  });

  test('docker logs: all, --tail, -t, and -f until the container stops', async () => {
    await svc.ok(['run', '-d', '--name', 'st-logs', '--network', 'none', 'busybox', 'sh', '-c', 'echo one; echo two >&2; echo three; sleep 1; echo four']);
    const all = await svc.docker(['logs', '-f', 'st-logs']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, 'one\nthree\nfour\n');
    assert.equal(all.stderr, 'two\n');
    const tail = await svc.docker(['logs', '--tail', '1', 'st-logs']);
    assert.equal(tail.stdout, 'four\n');
    // conmon reads stdout and stderr apart, so only the line after the sleep has a sure place.
    const stamped = await svc.docker(['logs', '-t', '--tail', '1', 'st-logs']);
    assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z four\n$/);
    // The raw stream: multiplexed frames, stderr only when asked for.
    const raw = await svc.api('GET', '/v1.47/containers/st-logs/logs?stderr=1');
    assert.equal(raw.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
    assert.deepEqual(demux(raw.body), { stdout: '', stderr: 'two\n' });
    // since and until in Unix seconds, as the CLI sends them: nothing after the future, everything before it.
    const future = Math.ceil(Date.now() / 1000) + 60;
    assert.equal((await svc.api('GET', `/containers/st-logs/logs?stdout=1&since=${future}`)).body.length, 0);
    assert.deepEqual(demux((await svc.api('GET', `/containers/st-logs/logs?stdout=1&until=${future}.000000000`)).body).stdout, 'one\nthree\nfour\n');
    assert.equal((await svc.api('GET', '/containers/st-logs/logs')).status, 400);
  });

  test('docker exec: exit code, -e, -u, -w, stderr apart; exec inspect has the code', async () => {
    await svc.ok(['run', '-d', '--name', 'st-exec', '--network', 'none', 'busybox', 'sleep', '1000']);
    const r = await svc.docker([
      'exec',
      '-e',
      'FOO=bar',
      '-u',
      '1000:1001',
      '-w',
      '/tmp',
      'st-exec',
      'sh',
      '-c',
      'echo "$FOO $(id -u):$(id -g) $PWD"; echo oops >&2; exit 7',
    ]);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'bar 1000:1001 /tmp\n');
    assert.equal(r.stderr, 'oops\n');
    const zero = await svc.docker(['exec', 'st-exec', 'true']);
    assert.equal(zero.code, 0, zero.stderr);
    assert.equal((await svc.docker(['exec', 'st-exec', 'no-such-command'])).code, 126, 'dockerd 20.10: 126 for a command the runtime cannot start');
    // The raw sequence dockerode uses: create, start without hijack, inspect.
    const created = await svc.api('POST', '/containers/st-exec/exec', {
      AttachStdout: true,
      AttachStderr: true,
      Cmd: ['sh', '-c', 'echo a; echo b >&2; exit 9'],
    });
    assert.equal(created.status, 201, created.body.toString());
    const id = created.json().Id as string;
    const before = (await svc.api('GET', `/exec/${id}/json`)).json();
    assert.equal(before.Running, false);
    assert.equal(before.ExitCode, null);
    const started = await svc.api('POST', `/exec/${id}/start`, { Detach: false, Tty: false });
    assert.equal(started.status, 200);
    assert.deepEqual(demux(started.body), { stdout: 'a\n', stderr: 'b\n' });
    const inspect = (await svc.api('GET', `/exec/${id}/json`)).json();
    assert.equal(inspect.ExitCode, 9);
    assert.equal(inspect.Running, false);
    assert.ok(inspect.Pid > 0);
    assert.equal(inspect.ContainerID.length, 64);
    assert.deepEqual(inspect.ProcessConfig, { arguments: ['-c', 'echo a; echo b >&2; exit 9'], entrypoint: 'sh', privileged: false, tty: false, user: '' });
    // A second start is refused; an unknown session is Docker's 404.
    assert.equal((await svc.api('POST', `/exec/${id}/start`, { Detach: false })).status, 409);
    assert.equal((await svc.api('GET', '/exec/nosuch/json')).status, 404);
    // Detached: the code is there once it has run.
    const bg = (await svc.api('POST', '/containers/st-exec/exec', { Cmd: ['sh', '-c', 'exit 4'] })).json().Id as string;
    assert.equal((await svc.api('POST', `/exec/${bg}/start`, { Detach: true })).status, 200);
    let code: number | null = null;
    for (let i = 0; i < 100 && code === null; i++) {
      code = (await svc.api('GET', `/exec/${bg}/json`)).json().ExitCode as number | null;
      if (code === null) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(code, 4);
  });

  test('docker exec -it in a terminal: a TTY of the client’s size, typed input, the exit code', async () => {
    await svc.ok(['run', '-d', '--name', 'st-exec-tty', '--network', 'none', 'busybox', 'sleep', '1000']);
    const r = await inTerminal(['exec', '-it', 'st-exec-tty', 'sh', '-c', 'sleep 0.3; tty; stty -a | head -n 1; read x; echo "got $x"; exit 8'], 'typed\n');
    assert.equal(r.code, 8, r.stdout);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /rows 31; columns 97;/);
    assert.match(r.stdout, /got typed/);
    // A command that is not there: dockerd's 126 (the runtime could not start it), the runtime's words in the terminal.
    const missing = await inTerminal(['exec', '-it', 'st-exec-tty', 'no-such-command']);
    assert.equal(missing.code, 126, missing.stdout);
  });

  test('docker cp: a file and a directory, into the container and out of it', async () => {
    await svc.ok(['run', '-d', '--name', 'st-cp', '--network', 'none', 'busybox', 'sleep', '1000']);
    const host = join(svc.dir, 'cp');
    mkdirSync(join(host, 'dir', 'sub'), { recursive: true });
    writeFileSync(join(host, 'file.txt'), 'file content\n');
    writeFileSync(join(host, 'dir', 'sub', 'inner.txt'), 'inner\n');
    assert.equal((await svc.docker(['cp', join(host, 'file.txt'), 'st-cp:/tmp/'])).code, 0);
    assert.equal((await svc.docker(['cp', join(host, 'dir'), 'st-cp:/tmp/copied'])).code, 0);
    const seen = await svc.ok(['exec', 'st-cp', 'sh', '-c', 'cat /tmp/file.txt /tmp/copied/sub/inner.txt']);
    assert.equal(seen.stdout, 'file content\ninner\n');
    await svc.ok(['exec', 'st-cp', 'sh', '-c', 'mkdir -p /srv/out/deep && echo made > /srv/out/deep/f && echo name > /srv/name']);
    assert.equal((await svc.docker(['cp', 'st-cp:/srv/name', join(host, 'name.txt')])).code, 0);
    assert.equal(readFileSync(join(host, 'name.txt'), 'utf8'), 'name\n');
    assert.equal((await svc.docker(['cp', 'st-cp:/srv/out', join(host, 'back')])).code, 0);
    assert.equal(readFileSync(join(host, 'back', 'deep', 'f'), 'utf8'), 'made\n');
    const missing = await svc.docker(['cp', 'st-cp:/no/such', join(host, 'x')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Could not find the file \/no\/such in container st-cp/);
    // The stat header docker cp reads first: base64 JSON with Go's mode bits (a directory's is 1<<31).
    const head = await svc.api('HEAD', '/containers/st-cp/archive?path=/srv/out');
    assert.equal(head.status, 200);
    const stat = JSON.parse(Buffer.from(head.headers['x-docker-container-path-stat'] as string, 'base64').toString());
    assert.equal(stat.name, 'out');
    assert.equal(stat.mode, 2 ** 31 + 0o755);
  });

  test('docker stats --no-stream, and the API’s one-shot in Docker’s shape', async () => {
    await svc.ok(['run', '-d', '--name', 'st-stats', '--network', 'none', 'busybox', 'sleep', '1000']);
    const r = await svc.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}', 'st-stats']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^st-stats 1 [\d.]+[KMG]?i?B \/ [\d.]+[KMG]iB$/);
    const one = await svc.api('GET', '/containers/st-stats/stats?stream=false&one-shot=true');
    assert.equal(one.status, 200);
    const s = one.json();
    assert.equal(s.name, '/st-stats');
    assert.equal(s.pids_stats.current, 1);
    assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
    assert.ok(s.cpu_stats.system_cpu_usage > 0);
    assert.ok(s.memory_stats.usage > 0 && s.memory_stats.limit >= s.memory_stats.usage);
    assert.equal(s.precpu_stats.cpu_usage.total_usage, 0);
    // Streamed: a sample a second, each with the one before as its precpu.
    const samples = await new Promise<any[]>((resolve, reject) => {
      const lines: any[] = [];
      const req = request({ socketPath: svc.socket, path: '/containers/st-stats/stats' }, (res) => {
        let buf = '';
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            lines.push(JSON.parse(buf.slice(0, i)));
            buf = buf.slice(i + 1);
          }
          if (lines.length >= 2) {
            req.destroy();
            resolve(lines);
          }
        });
      });
      req.on('error', (e) => (lines.length >= 2 ? undefined : reject(e)));
      req.end();
    });
    assert.equal(samples[1].precpu_stats.cpu_usage.total_usage, samples[0].cpu_stats.cpu_usage.total_usage);
    assert.equal(samples[1].preread, samples[0].read);
  });

  test('attach without hijack (dockerode’s plain form): output in frames until the container exits', async () => {
    await svc.ok(['create', '--name', 'st-plain', '--network', 'none', 'busybox', 'sh', '-c', 'echo o; echo e >&2']);
    const attached = svc.api('POST', '/containers/st-plain/attach?stream=1&stdout=1&stderr=1');
    // The attach is registered by the time its headers come back; give them a moment, then start.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await svc.api('POST', '/containers/st-plain/start')).status, 204);
    const r = await attached;
    assert.equal(r.status, 200);
    assert.deepEqual(demux(r.body), { stdout: 'o\n', stderr: 'e\n' });
    assert.equal((await svc.api('POST', '/containers/nosuch/attach?stream=1&stdout=1')).status, 404);
  });
});
