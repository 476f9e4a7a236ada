// The container lifecycle routes, driven by the docker CLI (28) against `berth system service`, and
// by raw requests where the CLI hides the status codes. The service and the berth CLI share one
// store: what one makes, the other sees.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthService, type BerthService } from '../testing/berth-service.js';
import { waitFor } from '../testing/wait.js';

describe('Docker API: containers', { timeout: 8 * 60_000 }, () => {
  let svc: BerthService;
  before(async () => {
    svc = await berthService();
  });
  after(async () => {
    await svc?.stop();
    svc?.cleanup();
  });

  const docker = async (args: string[]) => {
    const r = await svc.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const inspect = async (name: string, format: string) => docker(['inspect', '--format', format, name]);

  test('create, start, ps, inspect, stop, rm; berth ps sees what the API made and the API what berth made', async () => {
    const id = await docker(['create', '--name', 'life', '-l', 'tier=web', '-e', 'A=1', 'busybox', 'sleep', '300']);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await inspect('life', '{{.State.Status}} {{.Name}} {{.Config.Labels.tier}} {{index .Config.Cmd 0}}'), 'created /life web sleep');
    assert.equal(await docker(['start', 'life']), 'life');
    assert.match(await docker(['ps', '--format', '{{.Names}} {{.Status}} {{.Command}}']), /^life Up (Less than a second|\d+ seconds?) "sleep 300"$/);
    assert.equal(await inspect('life', '{{.State.Running}} {{.State.Status}} {{gt .State.Pid 0}}'), 'true running true');
    assert.match(await docker(['inspect', '-s', '--format', '{{.SizeRw}} {{.SizeRootFs}}', 'life']), /^\d+ [1-9]\d*$/);
    assert.match((await svc.ok(['ps', '--format', '{{.Names}} {{.Status}}'])).stdout, /^life Up /m);
    // The default network is Docker's bridge to Docker's clients.
    assert.equal(await inspect('life', '{{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}'), 'bridge bridge');
    assert.equal(await docker(['ps', '--filter', 'network=bridge', '--format', '{{.Names}} {{.Networks}}']), 'life bridge');
    // The image by the name the client gave, not podman's localhost/ form of it.
    assert.match(await docker(['ps', '--format', '{{.Image}}']), /^busybox(:latest)?$/);
    await svc.ok(['create', '--name', 'from-cli', 'busybox', 'true']);
    assert.match(await docker(['ps', '-a', '--format', '{{.Names}} {{.State}}']), /^from-cli created$/m);
    await svc.ok(['rm', 'from-cli']);
    assert.equal(await docker(['stop', '-t', '1', 'life']), 'life');
    assert.match(await inspect('life', '{{.State.Status}} {{.State.ExitCode}}'), /^exited (137|143)$/);
    assert.match(await docker(['ps', '-a', '--format', '{{.Names}} {{.Status}}']), /^life Exited \((137|143)\) /m);
    assert.equal(await docker(['rm', 'life']), 'life');
    assert.equal((await svc.ok(['ps', '-a', '-q'])).stdout.trim(), '');
  });

  test('run -d, then wait gives the exit code; run --rm -d leaves nothing once the container ends', async () => {
    // `docker run` attached (and so `run --rm` without -d) needs the attach route of the API's
    // stream routes: -d keeps to the lifecycle.
    const since = Math.floor(Date.now() / 1000) - 1;
    await docker(['run', '-d', '--name', 'three', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(await docker(['wait', 'three']), '3');
    // At once, as `docker run` does: the rm may come before conmon's cleanup, and the container still died.
    await docker(['rm', 'three']);
    const events = await docker([
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.ceil(Date.now() / 1000) + 1),
      '--filter',
      'container=three',
      '--format',
      '{{.Action}} {{.Actor.Attributes.exitCode}}',
    ]);
    assert.ok(events.split('\n').includes('die 3'), events);
    const id = await docker(['run', '--rm', '-d', 'busybox', 'true']);
    await waitFor('the --rm container to go', async () => ((await svc.ok(['ps', '-a', '-q', '--no-trunc'])).stdout.includes(id) ? undefined : true), 30_000);
    assert.equal(await docker(['ps', '-a', '-q']), '');
  });

  test('wait conditions: next-exit waits for the start and exit to come; removed outlives an --rm container', async () => {
    const created = (await svc.api('POST', '/containers/create?name=nx', { Image: 'busybox', Cmd: ['sh', '-c', 'exit 4'] })).json().Id as string;
    const waiting = svc.api('POST', `/containers/${created}/wait?condition=next-exit`);
    assert.equal((await svc.api('POST', '/containers/nx/start')).status, 204);
    const waited = await waiting;
    assert.equal(waited.status, 200);
    assert.deepEqual(waited.json(), { StatusCode: 4, Error: null });
    // not-running answers at once for a container that is not running.
    assert.deepEqual((await svc.api('POST', '/containers/nx/wait')).json(), { StatusCode: 4, Error: null });
    await docker(['rm', 'nx']);
    const rm = (
      await svc.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'sleep 1; exit 5'], HostConfig: { AutoRemove: true } })
    ).json().Id as string;
    const gone = svc.api('POST', `/containers/${rm}/wait?condition=removed`);
    assert.equal((await svc.api('POST', `/containers/${rm}/start`)).status, 204);
    assert.deepEqual((await gone).json(), { StatusCode: 5, Error: null });
    assert.equal((await svc.api('GET', `/containers/${rm}/json`)).status, 404);
  });

  test('ps --format and filters; prune removes what is not running', async () => {
    await docker(['run', '-d', '--name', 'f-web', '-l', 'tier=web', '-p', '18081:80', 'busybox', 'sleep', '300']);
    await docker(['run', '-d', '--name', 'f-done', '-l', 'tier=batch', 'busybox', 'true']);
    await docker(['wait', 'f-done']);
    const names = async (...filters: string[]) =>
      (await docker(['ps', '-a', ...filters.flatMap((f) => ['--filter', f]), '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();
    assert.deepEqual(await names('label=tier=web'), ['f-web']);
    assert.deepEqual(await names('label=tier'), ['f-done', 'f-web']);
    // Every label must match (compose tells its one-off containers apart so).
    assert.deepEqual(await names('label=tier', 'label=tier=web'), ['f-web']);
    assert.deepEqual(await names('label=tier=web', 'label=oneoff=False'), []);
    assert.deepEqual(await names('status=exited'), ['f-done']);
    assert.deepEqual(await names('name=f-w'), ['f-web']);
    assert.deepEqual(await names('name=^/f-web$'), ['f-web']);
    assert.deepEqual(await names('publish=18081'), ['f-web']);
    assert.deepEqual(await names('expose=80'), ['f-web']);
    assert.deepEqual(await names('exited=0'), ['f-done']);
    assert.deepEqual(await names('before=f-done'), ['f-web']);
    // Without -a only running ones; a status filter reaches the others.
    assert.equal(await docker(['ps', '--format', '{{.Names}} {{.Ports}}']), 'f-web 0.0.0.0:18081->80/tcp');
    assert.equal(
      await docker(['ps', '--filter', 'status=exited', '--format', '{{.Names}} {{.Status}}']).then((s) => s.replace(/\) .*/, ')')),
      'f-done Exited (0)',
    );
    const bad = await svc.docker(['ps', '--filter', 'health=great']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unrecognized filter value for health/);
    const pruned = await docker(['container', 'prune', '-f']);
    assert.match(pruned, /Deleted Containers:\n[0-9a-f]{64}\n/);
    assert.deepEqual(await names(), ['f-web']);
    await docker(['rm', '-f', 'f-web']);
  });

  test('rename, top, kill with a signal, restart, pause and unpause', async () => {
    // The trap turns USR1 into exit 7, so the signal's arrival shows in the exit code.
    await docker(['run', '-d', '--name', 'sig', 'busybox', 'sh', '-c', 'trap "exit 7" USR1; while :; do sleep 0.1; done']);
    await docker(['rename', 'sig', 'sig2']);
    assert.equal(await inspect('sig2', '{{.Name}}'), '/sig2');
    const top = await docker(['top', 'sig2']);
    assert.match(top.split('\n')[0]!, /^USER\s+PID\s+PPID\s+%CPU\s+ELAPSED\s+TTY\s+TIME\s+COMMAND$/);
    assert.match(top, /sh -c trap/);
    await docker(['pause', 'sig2']);
    assert.equal(await inspect('sig2', '{{.State.Status}} {{.State.Paused}}'), 'paused true');
    assert.match(await docker(['ps', '--format', '{{.Status}}']), /\(Paused\)$/);
    await docker(['unpause', 'sig2']);
    assert.equal(await inspect('sig2', '{{.State.Status}}'), 'running');
    const started = await inspect('sig2', '{{.State.StartedAt}}');
    await docker(['restart', '-t', '1', 'sig2']);
    assert.equal(await inspect('sig2', '{{.State.Status}}'), 'running');
    assert.notEqual(await inspect('sig2', '{{.State.StartedAt}}'), started);
    await docker(['kill', '-s', 'USR1', 'sig2']);
    assert.equal(await docker(['wait', 'sig2']), '7');
    await docker(['rm', 'sig2']);
    // stop --signal (API 1.42) instead of the container's stop signal: the trap's INT exits 8.
    await docker(['run', '-d', '--name', 'sig3', 'busybox', 'sh', '-c', 'trap "exit 8" INT; while :; do sleep 0.1; done']);
    await docker(['stop', '-s', 'SIGINT', '-t', '20', 'sig3']);
    assert.equal(await inspect('sig3', '{{.State.ExitCode}}'), '8');
    assert.equal((await svc.api('POST', '/containers/sig3/kill?signal=NOSUCH')).status, 400);
    await docker(['rm', 'sig3']);
  });

  test('update: limits reach a running container’s record and cgroup; the restart policy too, refused with --rm', async () => {
    await docker(['run', '-d', '--name', 'upd', '--memory', '64m', 'busybox', 'sleep', '300']);
    await docker(['update', '--memory', '128m', '--cpus', '0.5', '--cpu-shares', '256', '--pids-limit', '40', '--restart', 'on-failure:2', 'upd']);
    assert.equal(
      await inspect(
        'upd',
        '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}',
      ),
      `${128 * 1024 * 1024} 500000000 256 40 on-failure:2`,
    );
    // The cgroup the runtime made changed too: the container sees its new PID limit (v1 and v2 both name it pids.max).
    // (exec through the API is the stream routes' work: the berth CLI execs on the same store.)
    const pidsMax = (await svc.ok(['exec', 'upd', 'sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'])).stdout.trim();
    assert.equal(pidsMax, '40');
    const refused = await svc.api('POST', '/containers/upd/update', {
      Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rwm' }],
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.json().message, 'Devices cannot be updated by berth');
    await docker(['rm', '-f', 'upd']);
    await docker(['run', '-d', '--rm', '--name', 'upd-rm', 'busybox', 'sleep', '300']);
    const rm = await svc.docker(['update', '--restart', 'always', 'upd-rm']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /restart policy cannot be updated because AutoRemove is enabled/);
    await docker(['rm', '-f', 'upd-rm']);
  });

  test('changes and export of a container’s file system', async () => {
    await docker(['run', '-d', '--name', 'fs', 'busybox', 'sh', '-c', 'echo hi > /made; rm /bin/true; sleep 300']);
    await waitFor('the file to be made', async () => ((await svc.docker(['diff', 'fs'])).stdout.includes('/made') ? true : undefined), 20_000);
    const diff = (await docker(['diff', 'fs'])).split('\n');
    assert.ok(diff.includes('A /made'), diff.join('\n'));
    assert.ok(diff.includes('D /bin/true'), diff.join('\n'));
    const tar = await svc.api('GET', '/containers/fs/export');
    assert.equal(tar.status, 200);
    assert.equal(tar.headers['content-type'], 'application/x-tar');
    assert.ok(tar.body.includes(Buffer.from('made')), 'the export holds the new file');
    await docker(['rm', '-f', 'fs']);
  });

  test('Docker’s status codes by raw request', async () => {
    const created = await svc.api('POST', '/v1.41/containers/create?name=codes', {
      Image: 'busybox',
      Cmd: ['sleep', '300'],
      HostConfig: { KernelMemory: 1024 },
    });
    assert.equal(created.status, 201);
    assert.match(created.json().Id, /^[0-9a-f]{64}$/);
    assert.deepEqual(created.json().Warnings, ['HostConfig.KernelMemory is not supported by berth and was ignored']);
    const again = await svc.api('POST', '/containers/create?name=codes', { Image: 'busybox' });
    assert.equal(again.status, 409);
    assert.equal(
      again.json().message,
      `Conflict. The container name "/codes" is already in use by container "${created.json().Id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
    assert.equal((await svc.api('POST', '/containers/codes/stop')).status, 304);
    const kill = await svc.api('POST', '/containers/codes/kill');
    assert.equal(kill.status, 409);
    assert.equal(kill.json().message, `Cannot kill container: codes: Container ${created.json().Id} is not running`);
    assert.equal((await svc.api('POST', '/containers/codes/start')).status, 204);
    assert.equal((await svc.api('POST', '/containers/codes/start')).status, 304);
    const running = await svc.api('DELETE', '/containers/codes');
    assert.equal(running.status, 409);
    assert.match(running.json().message, /You cannot remove a running container/);
    assert.equal((await svc.api('POST', '/containers/codes/resize?h=40&w=100')).status, 200);
    assert.equal((await svc.api('POST', '/containers/codes/stop?t=0')).status, 204);
    assert.equal((await svc.api('POST', '/containers/codes/stop')).status, 304);
    assert.equal((await svc.api('POST', '/containers/codes/resize?h=40&w=100')).status, 409);
    assert.equal((await svc.api('DELETE', '/containers/codes?v=1')).status, 204);
    const missing = await svc.api('GET', '/containers/codes/json');
    assert.equal(missing.status, 404);
    assert.equal(missing.json().message, 'No such container: codes');
    const noImage = await svc.api('POST', '/containers/create', { Image: 'no-such-image' });
    assert.equal(noImage.status, 404);
    assert.equal(noImage.json().message, 'No such image: no-such-image:latest');
    const refused = await svc.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { CgroupParent: '/elsewhere' } });
    assert.equal(refused.status, 400);
    assert.equal(refused.json().message, 'HostConfig.CgroupParent is not supported by berth');
    const badName = await svc.api('POST', '/containers/create?name=no%20spaces', { Image: 'busybox' });
    assert.equal(badName.status, 400);
    // runc's words for a command that is missing or cannot run: the docker CLI's `run` exits 127 or 126 by them.
    await svc.api('POST', '/containers/create?name=nocmd', { Image: 'busybox', Cmd: ['no-such-command'] });
    const nocmd = await svc.api('POST', '/containers/nocmd/start');
    assert.equal(nocmd.status, 400);
    assert.match(nocmd.json().message, /^exec: "no-such-command": executable file not found in \$PATH/);
    assert.equal((await svc.api('DELETE', '/containers/nocmd')).status, 204);
    // An --rm container whose start fails goes, and a client waiting for its removal learns of it (docker run --rm does so).
    const rmId = (await svc.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['no-such-command'], HostConfig: { AutoRemove: true } })).json()
      .Id as string;
    const removed = svc.api('POST', `/containers/${rmId}/wait?condition=removed`);
    assert.equal((await svc.api('POST', `/containers/${rmId}/start`)).status, 400);
    assert.equal((await removed).status, 200);
    assert.equal((await svc.api('GET', `/containers/${rmId}/json`)).status, 404);
    assert.equal((await svc.api('POST', '/containers/nosuch/wait')).status, 404);
    assert.equal((await svc.api('POST', '/containers/nosuch/start')).status, 404);
    assert.equal((await svc.api('DELETE', '/containers/nosuch')).status, 404);
  });

  test('create with what a compose file gives: ports, a user network with an alias, mounts, resources, healthcheck', async () => {
    await svc.ok(['network', 'create', 'ctr-net']);
    await svc.ok(['volume', 'create', 'ctr-vol']);
    try {
      const body = {
        Image: 'busybox',
        Cmd: ['sleep', '300'],
        Env: ['MODE=test'],
        Hostname: 'web1',
        Domainname: 'example.com',
        Labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'web' },
        ExposedPorts: { '80/tcp': {} },
        Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Timeout: 1e9, Retries: 1 },
        HostConfig: {
          NetworkMode: 'ctr-net',
          PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
          Binds: ['ctr-vol:/data'],
          ExtraHosts: ['gw:host-gateway'],
          Tmpfs: { '/scratch': 'size=1m' },
          RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
          Memory: 64 * 1024 * 1024,
          NanoCpus: 5e8,
          PidsLimit: 50,
          CapDrop: ['NET_RAW'],
          Init: true,
          LogConfig: { Type: 'json-file', Config: {} },
        },
        NetworkingConfig: { EndpointsConfig: { 'ctr-net': { Aliases: ['web'] } } },
      };
      const r = await svc.api('POST', '/containers/create?name=compose-web', body);
      assert.equal(r.status, 201, r.body.toString());
      await docker(['start', 'compose-web']);
      const c = (await svc.api('GET', '/containers/compose-web/json')).json();
      assert.equal(c.Config.Labels['com.docker.compose.service'], 'web');
      assert.equal(c.Config.Domainname, 'example.com');
      // host-gateway (compose files name host.docker.internal so) is the network's gateway.
      const hosts = (await svc.ok(['exec', 'compose-web', 'cat', '/etc/hosts'])).stdout;
      assert.match(hosts, /^(\d+\.\d+\.\d+\.1)\tgw\n/);
      // The UTS namespace's names, as the container's process sees them.
      assert.equal((await svc.ok(['exec', 'compose-web', 'cat', '/proc/sys/kernel/hostname', '/proc/sys/kernel/domainname'])).stdout, 'web1\nexample.com\n');
      assert.equal(c.HostConfig.NetworkMode, 'ctr-net');
      assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
      assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);
      assert.equal(c.HostConfig.NanoCpus, 5e8);
      assert.equal(c.HostConfig.PidsLimit, 50);
      assert.equal(c.HostConfig.Init, true);
      assert.ok(c.NetworkSettings.Networks['ctr-net'].Aliases.includes('web'));
      assert.match(c.NetworkSettings.Networks['ctr-net'].IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
      const port = c.NetworkSettings.Ports['80/tcp'][0];
      assert.equal(port.HostIp, '127.0.0.1');
      assert.ok(Number(port.HostPort) > 0);
      assert.deepEqual(
        c.Mounts.map((m: { Type: string; Name?: string; Destination: string }) => `${m.Type} ${m.Name} ${m.Destination}`),
        ['volume ctr-vol /data'],
      );
      assert.ok(c.State.Health, 'the healthcheck runs');
      const healthy = await waitFor(
        'the healthcheck to pass',
        async () => ((await svc.api('GET', '/containers/compose-web/json')).json().State.Health.Status === 'healthy' ? true : undefined),
        30_000,
      );
      assert.ok(healthy);
      assert.match(await docker(['ps', '--filter', 'health=healthy', '--format', '{{.Names}} {{.Status}}']), /^compose-web Up .* \(healthy\)$/);
      const list = (await svc.api('GET', '/containers/json?filters=' + encodeURIComponent('{"label":["com.docker.compose.project=p"]}'))).json();
      assert.equal(list.length, 1);
      assert.deepEqual(list[0].Names, ['/compose-web']);
      assert.equal(list[0].HostConfig.NetworkMode, 'ctr-net');
      assert.ok(list[0].NetworkSettings.Networks['ctr-net']);
      assert.deepEqual(list[0].Ports, [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: Number(port.HostPort), Type: 'tcp' }]);
    } finally {
      await svc.docker(['rm', '-f', 'compose-web']);
      await svc.berth(['network', 'rm', 'ctr-net']);
      await svc.berth(['volume', 'rm', 'ctr-vol']);
    }
  });
});

describe('Docker API: the service cleans up after the containers it starts', { timeout: 4 * 60_000 }, () => {
  test('in process while it runs; by conmon’s call once it is gone', async () => {
    const svc = await berthService();
    try {
      // Exited and cleaned up: its root unmounted (inspect shows a MergedDir only while mounted).
      const cleaned = async (name: string) => {
        const [status, data] = (await svc.ok(['inspect', '--format', '{{.State.Status}}|{{json .GraphDriver.Data}}', name])).stdout.trim().split('|');
        return status === 'exited' && !data!.includes('MergedDir') ? true : undefined;
      };
      assert.equal((await svc.docker(['run', '-d', '--name', 'quick', 'busybox', 'true'])).code, 0);
      await waitFor('the service’s cleanup', () => cleaned('quick'), 20_000);
      const later = (await svc.docker(['run', '-d', '--name', 'later', 'busybox', 'sleep', '2'])).stdout.trim();
      // The service owns the cleanup (conmon's exit command leaves it to a live owner).
      const state = JSON.parse(readFileSync(join(svc.root, 'containers', later, 'state.json'), 'utf8'));
      assert.equal(state.cleanupOwner, 'caller');
      assert.match(state.ownerToken, /^\d+-\d+$/);
      assert.equal((await svc.docker(['run', '-d', '--rm', '--name', 'later-rm', 'busybox', 'sleep', '2'])).code, 0);
      // The owner goes before its containers end: conmon's exit command sees it gone and cleans up.
      await svc.stop();
      await waitFor('the cleanup after the service', () => cleaned('later'), 30_000);
      await waitFor('the --rm container to go', async () => ((await svc.berth(['container', 'exists', 'later-rm'])).code === 1 ? true : undefined), 30_000);
    } finally {
      await svc.stop();
      svc.cleanup();
    }
  });
});
