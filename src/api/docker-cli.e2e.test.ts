import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../testing/cli.js';
import { TEST_IMAGE } from '../testing/docker-engines.js';
import { httpFromContainer, httpGet, podmanDiffers, type Scenario, scenariosPerEngine, serveText } from '../testing/docker-scenarios.js';
import { freePort } from '../testing/registry.js';
import { waitFor } from '../testing/wait.js';

/**
 * The docker CLI (28.2, DOCKER_HOST=unix://…) driving each engine through the Docker Engine API: the
 * commands people type, each asserting what dockerd 20.10 does. Where podman 4.3's service answers
 * otherwise, the check is dockerd's and the comment says what podman does.
 */

const scenarios: Record<string, Scenario> = {
  'version and info describe the server': async (e) => {
    const v = JSON.parse((await e.dockerOk(['version', '--format', '{{json .Server}}'])).stdout) as Record<string, any>;
    assert.match(v.ApiVersion, /^1\.\d+$/);
    assert.match(v.Version, /^\d+\.\d+/);
    assert.equal(v.Os, 'linux');
    const info = JSON.parse((await e.dockerOk(['info', '--format', '{{json .}}'])).stdout) as Record<string, any>;
    assert.ok(info.Images >= 1, `Images: ${info.Images}`);
    assert.equal(typeof info.Containers, 'number');
    assert.equal(info.OSType, 'linux');
    assert.ok(info.NCPU >= 1);
  },

  'run --rm gives the exit code: 0, the command’s, 125, 126, 127': async (e) => {
    const ok = await e.docker(['run', '--rm', TEST_IMAGE, 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'out\n');
    assert.match(ok.stderr, /err/);
    const three = await e.docker(['run', '--rm', TEST_IMAGE, 'sh', '-c', 'exit 3']);
    // podman 4.3's service: `run --rm` exits 0 whatever the command's code (the CLI waits for
    // condition=removed, and podman's wait answers 0 once the container is gone).
    if (!podmanDiffers(e)) assert.equal(three.code, 3);
    // Without --rm both anchors give the code.
    assert.equal((await e.docker(['run', TEST_IMAGE, 'sh', '-c', 'exit 3'])).code, 3);
    await e.dockerOk(['create', '--name', 'taken', TEST_IMAGE, 'true']);
    const conflict = await e.docker(['run', '--rm', '--name', 'taken', TEST_IMAGE, 'true']);
    assert.equal(conflict.code, 125);
    assert.match(conflict.stderr, /taken/);
    const notExecutable = await e.docker(['run', '--rm', TEST_IMAGE, '/etc/passwd']);
    // podman 4.3's service: exit 1, "unable to upgrade to tcp, received 409" (its attach fails once
    // the start failed) where dockerd's CLI gets 126.
    if (!podmanDiffers(e)) assert.equal(notExecutable.code, 126, notExecutable.stderr);
    else assert.notEqual(notExecutable.code, 0);
    const missing = await e.docker(['run', '--rm', TEST_IMAGE, 'no-such-command']);
    // podman 4.3's service: exit 1 again (the same failed attach).
    if (!podmanDiffers(e)) assert.equal(missing.code, 127, missing.stderr);
    else assert.notEqual(missing.code, 0);
    const noImage = await e.docker(['run', '--rm', `${e.registry}/no/such-image:1`]);
    assert.equal(noImage.code, 125);
    await e.dockerOk(['rm', '-f', 'taken']);
  },

  'run -d -p publishes a port the host reaches': async (e) => {
    const port = await freePort();
    const id = (await e.dockerOk(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, TEST_IMAGE, ...serveText('published')])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await httpGet(port), 'published\n');
    assert.equal((await e.dockerOk(['port', 'web', '80/tcp'])).stdout.trim(), `127.0.0.1:${port}`);
    await e.dockerOk(['rm', '-f', 'web']);
  },

  'logs -f follows to the end of the container': async (e) => {
    await e.dockerOk(['run', '-d', '--name', 'talker', TEST_IMAGE, 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.3; done; echo bye >&2']);
    const r = await e.dockerOk(['logs', '-f', 'talker'], { timeoutMs: 60_000 });
    assert.equal(r.stdout, 'line1\nline2\nline3\n');
    assert.equal(r.stderr, 'bye\n');
    const tail = await e.dockerOk(['logs', '--tail', '1', 'talker']);
    assert.equal(tail.stdout, '');
    assert.equal(tail.stderr, 'bye\n');
    await e.dockerOk(['rm', 'talker']);
  },

  'run --rm: one die event, then the container is gone': async (e) => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await e.dockerOk(['run', '--rm', '--name', 'once', TEST_IMAGE, 'true']);
    const until = Math.ceil(Date.now() / 1000) + 1;
    const events = await e.dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', 'container=once', '--format', '{{.Action}}']);
    const actions = events.stdout.trim().split('\n');
    assert.equal(actions.filter((a) => a === 'die').length, 1, events.stdout);
    assert.ok(actions.includes('start'), events.stdout);
    assert.notEqual((await e.docker(['inspect', 'once'])).code, 0);
  },

  'run --log-driver none: the output through the attach, no log to read': async (e) => {
    const r = await e.dockerOk(['run', '--name', 'quiet', '--log-driver', 'none', TEST_IMAGE, 'echo', 'attached']);
    assert.equal(r.stdout, 'attached\n');
    assert.equal((await e.dockerOk(['inspect', '--format', '{{.HostConfig.LogConfig.Type}}', 'quiet'])).stdout.trim(), 'none');
    const logs = await e.docker(['logs', 'quiet']);
    assert.notEqual(logs.code, 0);
    // podman 4.3's service words it its own way ("this container is using the 'none' log driver").
    if (!podmanDiffers(e)) assert.match(logs.stderr, /configured logging driver does not support reading/);
    await e.dockerOk(['rm', 'quiet']);
  },

  'exec runs in the container with its env, workdir and exit code': async (e) => {
    await e.dockerOk(['run', '-d', '--name', 'box', '-e', 'FROM_RUN=1', TEST_IMAGE, 'sleep', '300']);
    const r = await e.docker(['exec', '-e', 'FROM_EXEC=2', '-w', '/tmp', 'box', 'sh', '-c', 'echo $FROM_RUN $FROM_EXEC $(pwd); exit 4']);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, '1 2 /tmp\n');
    const stdin = await e.dockerOk(['exec', '-i', 'box', 'cat'], { input: 'through stdin\n' });
    assert.equal(stdin.stdout, 'through stdin\n');
    // dockerd: 126 for an exec whose command is not found (the runtime's exec fails); podman 4.3: 127.
    if (!podmanDiffers(e)) assert.equal((await e.docker(['exec', 'box', 'no-such-command'])).code, 126);
    await e.dockerOk(['rm', '-f', 'box']);
  },

  'cp copies into and out of a container': async (e) => {
    const host = join(e.dir, 'cp-test');
    mkdirSync(join(host, 'in'), { recursive: true });
    writeFileSync(join(host, 'in', 'hello.txt'), 'from the host\n');
    await e.dockerOk(['run', '-d', '--name', 'cpbox', TEST_IMAGE, 'sleep', '300']);
    await e.dockerOk(['cp', join(host, 'in', 'hello.txt'), 'cpbox:/tmp/hello.txt']);
    assert.equal((await e.dockerOk(['exec', 'cpbox', 'cat', '/tmp/hello.txt'])).stdout, 'from the host\n');
    await e.dockerOk(['exec', 'cpbox', 'sh', '-c', 'mkdir -p /out/sub && echo from the container > /out/sub/f.txt']);
    await e.dockerOk(['cp', 'cpbox:/out', join(host, 'out')]);
    assert.equal(readFileSync(join(host, 'out', 'sub', 'f.txt'), 'utf8'), 'from the container\n');
    // A stopped container too.
    await e.dockerOk(['stop', '-t', '0', 'cpbox']);
    await e.dockerOk(['cp', 'cpbox:/tmp/hello.txt', join(host, 'back.txt')]);
    assert.equal(readFileSync(join(host, 'back.txt'), 'utf8'), 'from the host\n');
    await e.dockerOk(['rm', 'cpbox']);
  },

  'stop, rm, ps --format and inspect': async (e) => {
    await e.dockerOk(['run', '-d', '--name', 'sleeper', '--label', 'suite=cli', TEST_IMAGE, 'sleep', '300']);
    const ps = await e.dockerOk(['ps', '--filter', 'label=suite=cli', '--format', '{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}']);
    const [name, image, command, status] = ps.stdout.trim().split('|');
    assert.equal(name, 'sleeper');
    assert.match(image!, /busybox/);
    assert.match(command!, /sleep 300/);
    assert.match(status!, /^Up /);
    const state = JSON.parse((await e.dockerOk(['inspect', '--format', '{{json .State}}', 'sleeper'])).stdout) as Record<string, any>;
    assert.equal(state.Running, true);
    assert.ok(state.Pid > 0);
    const [cfg] = JSON.parse((await e.dockerOk(['inspect', 'sleeper'])).stdout) as Record<string, any>[];
    assert.equal(cfg!.Name, '/sleeper');
    assert.deepEqual(cfg!.Config.Cmd, ['sleep', '300']);
    assert.equal(cfg!.Config.Labels.suite, 'cli');
    const started = Date.now();
    await e.dockerOk(['stop', '-t', '1', 'sleeper']);
    // sleep ignores nothing: SIGTERM ends it at once (as PID 1 it has no handler, so only after the timeout, then SIGKILL).
    assert.ok(Date.now() - started < 15_000);
    const exited = await e.dockerOk(['ps', '-a', '--filter', 'name=sleeper', '--format', '{{.Status}}']);
    assert.match(exited.stdout, /^Exited \((137|143)\)/);
    assert.equal((await e.dockerOk(['ps', '-q', '--filter', 'name=sleeper'])).stdout, '');
    await e.dockerOk(['rm', 'sleeper']);
    assert.equal((await e.dockerOk(['ps', '-aq', '--filter', 'name=sleeper'])).stdout, '');
    const gone = await e.docker(['inspect', 'sleeper']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /[Nn]o such (object|container)/);
  },

  'network create and connect: containers reach each other by name': async (e) => {
    const subnet = e.subnet(1);
    await e.dockerOk(['network', 'create', '--subnet', subnet, 'front']);
    const net = JSON.parse((await e.dockerOk(['network', 'inspect', 'front'])).stdout)[0] as Record<string, any>;
    assert.equal(net.IPAM.Config[0].Subnet, subnet);
    await e.dockerOk(['run', '-d', '--name', 'server', '--network', 'front', '--network-alias', 'api', TEST_IMAGE, ...serveText('by name')]);
    await e.dockerOk(['run', '-d', '--name', 'client', TEST_IMAGE, 'sleep', '300']);
    await e.dockerOk(['network', 'connect', 'front', 'client']);
    for (const host of ['server', 'api']) {
      const body = await waitFor(`client to reach ${host}`, () => httpFromContainer(e, 'client', host), 30_000);
      assert.equal(body, 'by name\n');
    }
    const addr = (await e.dockerOk(['inspect', '--format', '{{(index .NetworkSettings.Networks "front").IPAddress}}', 'client'])).stdout.trim();
    assert.match(addr, new RegExp(`^${subnet.split('.').slice(0, 3).join('\\.')}\\.`));
    await e.dockerOk(['rm', '-f', 'server', 'client']);
    await e.dockerOk(['network', 'rm', 'front']);
  },

  'volume create: data outlives the container': async (e) => {
    await e.dockerOk(['volume', 'create', '--label', 'suite=cli', 'keep']);
    const vol = JSON.parse((await e.dockerOk(['volume', 'inspect', 'keep'])).stdout)[0] as Record<string, any>;
    assert.equal(vol.Name, 'keep');
    assert.equal(vol.Driver, 'local');
    await e.dockerOk(['run', '--rm', '-v', 'keep:/data', TEST_IMAGE, 'sh', '-c', 'echo kept > /data/f']);
    assert.equal((await e.dockerOk(['run', '--rm', '-v', 'keep:/data:ro', TEST_IMAGE, 'cat', '/data/f'])).stdout, 'kept\n');
    assert.match((await e.dockerOk(['volume', 'ls', '--filter', 'label=suite=cli', '--format', '{{.Name}}'])).stdout, /^keep$/m);
    await e.dockerOk(['volume', 'rm', 'keep']);
  },

  'push to and pull from a local registry': async (e) => {
    const ref = `${e.registry}/cli/busybox:pushed`;
    await e.dockerOk(['tag', TEST_IMAGE, ref]);
    const push = await e.dockerOk(['push', ref], { timeoutMs: 120_000 });
    assert.match(push.stdout, /digest: sha256:[0-9a-f]{64}/);
    await e.dockerOk(['rmi', ref]);
    assert.equal((await e.docker(['image', 'inspect', ref])).code, 1);
    const pull = await e.dockerOk(['pull', ref], { timeoutMs: 120_000 });
    // podman 4.3's service sends no "Digest:" status line at the end of a pull.
    if (!podmanDiffers(e)) assert.match(pull.stdout, /Digest: sha256:[0-9a-f]{64}/);
    assert.match(pull.stdout, new RegExp(`${ref.replace(/[.:/]/g, '\\$&')}\\s*$`));
    assert.equal((await e.dockerOk(['run', '--rm', ref, 'echo', 'pulled'])).stdout, 'pulled\n');
    await e.dockerOk(['rmi', ref]);
  },

  'save and load round-trip an image': async (e) => {
    const archive = join(e.dir, 'saved.tar');
    await e.dockerOk(['tag', TEST_IMAGE, 'round/trip:1']);
    await e.dockerOk(['save', '-o', archive, 'round/trip:1']);
    await e.dockerOk(['rmi', 'round/trip:1']);
    const loaded = await e.dockerOk(['load', '-i', archive]);
    assert.match(loaded.stdout, /Loaded image: .*round\/trip:1/);
    assert.equal((await e.dockerOk(['run', '--rm', 'round/trip:1', 'echo', 'loaded'])).stdout, 'loaded\n');
    await e.dockerOk(['rmi', 'round/trip:1']);
  },

  'build with the classic builder (DOCKER_BUILDKIT=0)': async (e) => {
    const ctx = join(e.dir, 'build-ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'greeting.txt'), 'built\n');
    writeFileSync(
      join(ctx, 'Dockerfile'),
      `FROM ${TEST_IMAGE}\nARG WHO=nobody\nENV WHO=$WHO\nCOPY greeting.txt /greeting.txt\nRUN echo "for $WHO" >> /greeting.txt\nLABEL suite=cli\nCMD ["cat", "/greeting.txt"]\n`,
    );
    const r = await e.dockerOk(['build', '--build-arg', 'WHO=you', '-t', 'cli-built:1', ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 180_000 });
    assert.match(r.stdout, /Successfully tagged cli-built:1|COMMIT cli-built:1|Successfully built/);
    assert.equal((await e.dockerOk(['run', '--rm', 'cli-built:1'])).stdout, 'built\nfor you\n');
    assert.equal((await e.dockerOk(['image', 'inspect', '--format', '{{index .Config.Labels "suite"}}', 'cli-built:1'])).stdout.trim(), 'cli');
    await e.dockerOk(['rmi', 'cli-built:1']);
  },

  'events lists a container’s lifecycle': async (e) => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await e.dockerOk(['run', '--name', 'evented', TEST_IMAGE, 'true']);
    await e.dockerOk(['rm', 'evented']);
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await e.dockerOk(
      ['events', '--since', String(since), '--until', String(until), '--filter', 'container=evented', '--format', '{{.Type}} {{.Action}}'],
      {
        timeoutMs: 30_000,
      },
    );
    const actions = r.stdout.trim().split('\n');
    // podman 4.3 calls the removal `remove` (dockerd: `destroy`) and adds init, attach and cleanup.
    const removal = podmanDiffers(e) ? 'container remove' : 'container destroy';
    for (const a of ['container create', 'container start', 'container die', removal]) assert.ok(actions.includes(a), `${a} not in ${JSON.stringify(actions)}`);
    assert.ok(actions.indexOf('container create') < actions.indexOf('container start'));
    assert.ok(actions.indexOf('container start') < actions.indexOf('container die'));
  },

  'stats --no-stream shows a running container once': async (e) => {
    await e.dockerOk(['run', '-d', '--name', 'measured', TEST_IMAGE, 'sleep', '300']);
    const r = await e.dockerOk(['stats', '--no-stream', '--format', '{{.Name}}|{{.MemUsage}}|{{.PIDs}}', 'measured'], { timeoutMs: 60_000 });
    const [name, mem, pids] = r.stdout.trim().split('|');
    // podman 4.3's service names it "easured": it drops the name's first character as if it were
    // dockerd's leading "/".
    assert.equal(name, podmanDiffers(e) ? 'easured' : 'measured');
    assert.match(mem!, /\d.*B \/ \d.*B/);
    assert.match(pids!, /^\d+$/);
    await e.dockerOk(['rm', '-f', 'measured']);
  },

  'system df counts images, containers and volumes': async (e) => {
    const r = await e.dockerOk(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}']);
    const rows = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('|')),
    );
    assert.ok(Number(rows.Images) >= 1, r.stdout);
    assert.ok('Containers' in rows, r.stdout);
    assert.ok('Local Volumes' in rows, r.stdout);
  },

  'run -it and exec -it give the container a terminal': async (e) => {
    // script(1) gives the docker CLI a real terminal, as a person's shell would.
    const cmd = `docker run -it --rm ${TEST_IMAGE} sh -c 'tty; exit 5'`;
    const r = await run('script', ['-qec', cmd, '/dev/null'], { env: e.env, timeoutMs: 60_000 });
    assert.match(r.stdout, /\/dev\/pts\/\d+\r\n/);
    // podman 4.3's service: 0, as for every `run --rm` (see above).
    if (!podmanDiffers(e)) assert.equal(r.code, 5);
    await e.dockerOk(['run', '-d', '--name', 'term', TEST_IMAGE, 'sleep', '300']);
    const x = await run('script', ['-qec', `docker exec -it term sh -c 'tty; exit 6'`, '/dev/null'], { env: e.env, timeoutMs: 60_000 });
    assert.match(x.stdout, /\/dev\/pts\/\d+\r\n/);
    assert.equal(x.code, 6);
    await e.dockerOk(['rm', '-f', 'term']);
  },
};

scenariosPerEngine('docker CLI', scenarios, { timeoutMs: 600_000 });
