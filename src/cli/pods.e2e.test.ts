import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCommand, podmanArgs, podmanEnv, run, type RunResult } from '../testing/cli.js';
import { containerEnv, type ContainerEnv, inspectContainer } from '../testing/containers.js';
import { freePort } from '../testing/registry.js';

/**
 * Pods through the real runtime and netavark: an infra container holding the namespaces, members
 * reaching each other on localhost, ports published on the pod, the lifecycle, and nothing left
 * on the host after `pod rm -f`.
 */

/** A GET by hand through busybox nc (busybox wget crashes on this host). */
const GET = (path: string, port = 80) => `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc localhost ${port}`;

/** What of a container is left on the host: firewall rules naming it, its netns mount. */
function leftovers(id: string): string[] {
  const found: string[] = [];
  const rules = spawnSync('sh', ['-c', 'iptables-save; ip6tables-save'], { encoding: 'utf8', timeout: 30_000 }).stdout;
  if (rules.includes(id)) found.push('iptables rule');
  if (readFileSync('/proc/self/mountinfo', 'utf8').includes(`berth-${id.slice(0, 32)}`)) found.push('netns mount');
  return found;
}

/** podman 4.3 on a throwaway vfs store in the test's directory (only creates: nothing runs, nothing is mounted). */
function podman(env: ContainerEnv, args: string[]): Promise<RunResult> {
  const p = join(env.dir, 'podman');
  return run('podman', [...podmanArgs(p, 'vfs'), ...args], { env: podmanEnv(p), timeoutMs: 120_000 });
}

/** The infra container's name podman gives it, from `pod inspect`'s ID output. */
const expectInfraName = (r: RunResult) => `${r.stdout.trim().slice(0, 12)}-infra`;

/** The inode of a container's network namespace, read from inside it. */
async function netnsOf(env: ContainerEnv, name: string): Promise<string> {
  return (await env.ok(['exec', name, 'readlink', '/proc/self/ns/net'])).stdout.trim();
}

describe('pods', { timeout: 600_000 }, () => {
  let env: ContainerEnv;
  before(async () => {
    env = await containerEnv();
  });
  after(async () => {
    await env?.berth(['pod', 'rm', '-a', '-f', '-t', '0']);
    env?.cleanup();
  });

  it('beside podman: pod ps --format json and pod inspect have podman’s fields; the same refusals', { skip: !hasCommand('podman') }, async () => {
    await podman(env, ['pod', 'create', '--name', 'cmp', '--label', 'a=b']);
    await env.ok(['pod', 'create', '--name', 'cmp', '--label', 'a=b']);
    try {
      const keys = (r: RunResult) => Object.keys((JSON.parse(r.stdout) as object[])[0]!).sort();
      const ps = ['pod', 'ps', '--format', 'json'];
      assert.deepEqual(keys(await env.ok(ps)), keys(await podman(env, ps)));
      const inspectKeys = async (r: Promise<RunResult>) => Object.keys(JSON.parse((await r).stdout) as object);
      const ours = await inspectKeys(env.ok(['pod', 'inspect', 'cmp']));
      const theirs = await inspectKeys(podman(env, ['pod', 'inspect', 'cmp']));
      // berth has no pod-level block I/O limits, devices, mounts or locks (its CPU and memory limits: pod-resources.e2e.test.ts).
      const missing = theirs.filter(
        (k) => !ours.includes(k) && !/^(Lock|Blkio|Cpu|Memory|Devices|Mounts|SecurityOpts|VolumesFrom|Infra(ContainerID)?$)/.test(k),
      );
      assert.deepEqual(missing, []);
      for (const args of [
        ['pod', 'create', '--name', 'cmp'],
        ['pod', 'rm', 'nope'],
        ['pod', 'create', '--share', 'bogus'],
      ]) {
        const [b, p] = [await env.berth(args), await podman(env, args)];
        assert.equal(b.code, p.code, args.join(' '));
      }
      const image = (await podman(env, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n')[0]!;
      const [b, p] = [
        await env.berth(['create', '--pod', 'cmp', '-p', '8080:80', 'busybox', 'true']),
        await podman(env, ['create', '--pod', 'cmp', '-p', '8080:80', image, 'true']),
      ];
      assert.equal(b.stderr, p.stderr);
      assert.equal(b.code, p.code);
    } finally {
      await podman(env, ['pod', 'rm', '-f', 'cmp']);
      await env.berth(['pod', 'rm', '-f', 'cmp']);
    }
  });

  it('pod create, ps (table, json, filters, -q), inspect in podman’s shape, exists', async () => {
    const id = (await env.ok(['pod', 'create', '--name', 'listed', '--label', 'team=web'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal((await env.berth(['pod', 'exists', 'listed'])).code, 0);
    assert.equal((await env.berth(['pod', 'exists', 'nope'])).code, 1);
    const table = (await env.ok(['pod', 'ps'])).stdout;
    assert.match(table, /^POD ID\s+NAME\s+STATUS\s+CREATED\s+INFRA ID\s+# OF CONTAINERS\n/);
    assert.match(table, new RegExp(`${id.slice(0, 12)}\\s+listed\\s+Created\\s.*\\s1\\n`));
    const [json] = JSON.parse((await env.ok(['pod', 'ps', '--format', 'json', '--filter', 'name=^list'])).stdout) as Record<string, any>[];
    assert.equal(json!['Id'], id);
    assert.equal(json!['Status'], 'Created');
    assert.deepEqual(json!['Labels'], { team: 'web' });
    assert.equal(json!['Containers'][0].Names, `${id.slice(0, 12)}-infra`);
    assert.equal((await env.ok(['pod', 'ps', '-q', '--no-trunc', '--filter', 'label=team=web'])).stdout, `${id}\n`);
    assert.equal((await env.ok(['pod', 'ps', '-q', '--filter', 'status=running'])).stdout, '');
    assert.equal((await env.ok(['pod', 'ps', '--format', '{{.Name}} {{.NumberOfContainers}} {{.ContainerStatuses}}'])).stdout, 'listed 1 created\n');
    const inspected = JSON.parse((await env.ok(['pod', 'inspect', 'listed'])).stdout) as Record<string, any>;
    assert.equal(inspected['Name'], 'listed');
    assert.equal(inspected['State'], 'Created');
    assert.deepEqual(inspected['SharedNamespaces'], ['net', 'ipc', 'uts']);
    assert.equal(inspected['InfraContainerID'], json!['InfraId']);
    assert.equal(inspected['NumContainers'], 1);
    const again = await env.berth(['pod', 'create', '--name', 'listed']);
    assert.equal(again.code, 125);
    assert.equal(again.stderr, 'Error: listed: pod already exists\n');
    await env.ok(['pod', 'rm', 'listed']);
    assert.equal((await env.ok(['ps', '-aq'])).stdout, '', 'the infra went with the pod');
  });

  it('a pod with an httpd and a sidecar: localhost between them, -p from the host, lifecycle, and nothing left after pod rm -f', async () => {
    const port = await freePort();
    const podId = (await env.ok(['pod', 'create', '--name', 'web', '-p', `${port}:80`])).stdout.trim();
    // The app's own -p or --network is the pod's to give: podman's refusals.
    const ownPort = await env.berth(['create', '--pod', 'web', '-p', '8080:80', 'busybox', 'true']);
    assert.equal(ownPort.code, 125);
    assert.equal(
      ownPort.stderr,
      'Error: invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod\n',
    );
    assert.match(
      (await env.berth(['create', '--pod', 'web', '--network', 'none', 'busybox', 'true'])).stderr,
      /networks must be defined when the pod is created/,
    );
    assert.match((await env.berth(['create', '--pod', 'nope', 'busybox', 'true'])).stderr, /no pod with name or ID nope found: no such pod/);

    // The infra is not running yet: the first member's start starts it.
    await env.ok([
      'run',
      '-d',
      '--pod',
      'web',
      '--name',
      'httpd',
      'busybox',
      'sh',
      '-c',
      'mkdir -p /www && echo hello-pod > /www/index.html && exec httpd -f -p 80 -h /www',
    ]);
    const sidecar = await env.ok(['run', '--rm', '--pod', 'web', 'busybox', 'sh', '-c', `sleep 0.5; ${GET('/')}; hostname`]);
    assert.match(sidecar.stdout, /hello-pod\n/);
    assert.match(sidecar.stdout, /\nweb\n$/, "the pod's hostname");
    const fromHost = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal((await fromHost.text()).trim(), 'hello-pod');

    const infraId = ((await inspectContainer(env, `${podId.slice(0, 12)}-infra`)) as { Id: string }).Id;
    const ps = (await env.ok(['ps', '--pod', '--filter', 'pod=web', '--format', '{{.Names}} {{.Pod}} {{.PodName}}'])).stdout;
    assert.equal(
      ps.split('\n').filter(Boolean).sort().join('\n'),
      [`${podId.slice(0, 12)}-infra ${podId.slice(0, 12)} web`, `httpd ${podId.slice(0, 12)} web`].join('\n'),
    );
    assert.match((await env.ok(['ps', '--pod'])).stdout.split('\n')[0]!, /POD ID\s+PODNAME$/);
    // The member shares the infra's network, IPC and UTS namespaces.
    const ns = (name: string) => env.ok(['exec', name, 'sh', '-c', 'for t in net ipc uts; do readlink /proc/self/ns/$t; done']);
    const infraPid = (await inspectContainer(env, infraId))['State'].Pid as number;
    const infraNs = ['net', 'ipc', 'uts'].map((t) => spawnSync('readlink', [`/proc/${infraPid}/ns/${t}`], { encoding: 'utf8' }).stdout.trim());
    assert.deepEqual((await ns('httpd')).stdout.trim().split('\n'), infraNs);

    const refused = await env.berth(['rm', '-f', infraId]);
    assert.equal(refused.code, 125);
    assert.equal(refused.stderr, `Error: container ${infraId} is the infra container of pod ${podId} and cannot be removed without removing the pod\n`);

    // The app restarted: the infra kept the namespace, so it comes back in the same one.
    const before = await netnsOf(env, 'httpd');
    await env.ok(['restart', '-t', '0', 'httpd']);
    assert.equal(await netnsOf(env, 'httpd'), before);
    await env.ok(['stop', '-t', '0', 'httpd']);
    assert.match((await env.ok(['pod', 'ps', '--format', '{{.Status}}'])).stdout, /^Degraded\n$/);

    await env.ok(['pod', 'stop', '-t', '0', 'web']);
    assert.equal((await env.ok(['pod', 'ps', '--format', '{{.Status}} {{.ContainerStatuses}}'])).stdout, 'Exited exited,exited\n');
    await env.ok(['pod', 'start', 'web']);
    assert.equal((await env.ok(['pod', 'ps', '--format', '{{.Status}}'])).stdout, 'Running\n');
    assert.equal((await (await fetch(`http://127.0.0.1:${port}/`)).text()).trim(), 'hello-pod');

    const notForced = await env.berth(['pod', 'rm', 'web']);
    assert.equal(notForced.code, 125);
    assert.match(notForced.stderr, /cannot be removed without force/);
    await env.ok(['pod', 'rm', '-f', '-t', '0', 'web']);
    assert.equal((await env.ok(['ps', '-aq'])).stdout, '');
    assert.equal((await env.ok(['pod', 'ps', '-q'])).stdout, '');
    assert.deepEqual(leftovers(infraId), []);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }));
  });

  it('--pod new:NAME makes the pod with the container’s ports; --share +pid puts catatonit at PID 1; pause, kill, prune', async () => {
    const port = await freePort();
    // A container that cannot be made takes its new pod with it.
    assert.equal((await env.berth(['create', '--pod', 'new:made', '--pull', 'never', 'no-such-image', 'true'])).code, 125);
    assert.equal((await env.berth(['create', '--pod', 'new:made', '--user', 'a:b:c', 'busybox', 'true'])).code, 125);
    assert.equal((await env.berth(['pod', 'exists', 'made'])).code, 1);
    await env.ok(['create', '--pod', 'new:made', '-p', `${port}:80`, '--name', 'member', 'busybox', 'sleep', '600']);
    const inspected = JSON.parse((await env.ok(['pod', 'inspect', 'made'])).stdout) as Record<string, any>;
    assert.deepEqual(inspected['InfraConfig'].PortBindings, { '80/tcp': [{ HostIp: '', HostPort: String(port) }] });
    assert.equal(inspected['NumContainers'], 2);
    await env.ok(['pod', 'start', 'made']);
    await env.ok(['pod', 'pause', 'made']);
    assert.equal((await env.ok(['pod', 'ps', '--filter', 'name=made', '--format', '{{.Status}}'])).stdout, 'Paused\n');
    await env.ok(['pod', 'unpause', 'made']);
    await env.ok(['pod', 'kill', 'made']);
    assert.equal((await env.ok(['pod', 'ps', '--filter', 'name=made', '--format', '{{.Status}}'])).stdout, 'Exited\n');

    await env.ok(['pod', 'create', '--name', 'pids', '--share', '+pid', '--hostname', 'myhost', '--add-host', 'db.local:10.1.2.3', '--dns', '9.9.9.9']);
    const top = await env.ok([
      'run',
      '--rm',
      '--pod',
      'pids',
      'busybox',
      'sh',
      '-c',
      'ps -o pid,args; hostname; grep db.local /etc/hosts; grep nameserver /etc/resolv.conf',
    ]);
    assert.match(top.stdout, /^\s*1\s+\/catatonit -P$/m, "the infra's catatonit is the pod's PID 1");
    assert.match(top.stdout, /\nmyhost\n10\.1\.2\.3\s+db\.local\nnameserver 9\.9\.9\.9\n$/, "the pod's hostname, hosts and DNS");
    assert.equal(
      (await env.ok(['pod', 'inspect', 'pids', '--format', '{{.Hostname}} {{.InfraConfig.DNSServer}} {{.InfraConfig.HostAdd}} {{.SharedNamespaces}}'])).stdout,
      'myhost [9.9.9.9] [db.local:10.1.2.3] [net ipc uts pid]\n',
    );
    await env.ok(['pod', 'stop', '-t', '0', 'pids']);
    const ids = (await env.ok(['pod', 'ps', '-q', '--no-trunc', '--filter', 'name=^made$', '--filter', 'name=^pids$'])).stdout.trim().split('\n').sort();
    assert.equal(ids.length, 2);
    const pruned = (await env.ok(['pod', 'prune', '-f'])).stdout.trim().split('\n').sort();
    assert.deepEqual(pruned, ids);
    assert.equal((await env.ok(['pod', 'ps', '-q', '--filter', 'name=^made$', '--filter', 'name=^pids$'])).stdout, '');
    assert.equal((await env.ok(['ps', '-aq', '--filter', 'name=member'])).stdout, '');
  });

  it('pod top, logs, stats and restart over the pod’s containers', async () => {
    await env.ok(['pod', 'create', '--name', 'watched']);
    await env.ok(['run', '-d', '--pod', 'watched', '--name', 'talker', 'busybox', 'sh', '-c', 'echo said-it; exec sleep 600']);
    const top = (await env.ok(['pod', 'top', 'watched', 'pid', 'args'])).stdout;
    assert.match(top, /^PID\s+COMMAND\n/);
    assert.match(top, /\/catatonit -P/);
    assert.match(top, /sleep 600/);
    assert.equal((await env.ok(['pod', 'logs', 'watched'])).stdout, 'talker said-it\n');
    assert.equal((await env.ok(['pod', 'logs', '-c', 'talker', 'watched'])).stdout, 'said-it\n');
    const stats = (await env.ok(['pod', 'stats', '--no-stream', '--format', '{{.Name}}', 'watched'])).stdout.trim().split('\n').sort();
    assert.deepEqual(stats, [expectInfraName(await env.ok(['pod', 'inspect', 'watched', '--format', '{{.Id}}'])), 'talker'].sort());
    await env.ok(['pod', 'restart', '-t', '0', 'watched']);
    assert.equal((await env.ok(['pod', 'ps', '--filter', 'name=^watched$', '--format', '{{.Status}}'])).stdout, 'Running\n');
    await env.ok(['pod', 'rm', '-f', '-t', '0', 'watched']);
  });

  it('rm -a takes the pods’ containers, the infra among them, and so the pods, as podman’s does', async () => {
    await env.ok(['pod', 'create', '--name', 'byrm']);
    await env.ok(['run', '-d', '--pod', 'byrm', '--name', 'byrm-member', 'busybox', 'sleep', '600']);
    const infra = (await env.ok(['pod', 'inspect', 'byrm', '--format', '{{.InfraContainerID}}'])).stdout.trim();
    await env.ok(['rm', '-a', '-f', '-t', '0']);
    assert.equal((await env.berth(['pod', 'exists', 'byrm'])).code, 1);
    assert.equal((await env.ok(['ps', '-aq'])).stdout, '');
    assert.deepEqual(leftovers(infra), []);
  });

  it('network rm -f takes a pod on that network, as podman’s "containers and pods"', async () => {
    await env.ok(['network', 'create', `podnet${process.pid}`]);
    await env.ok(['pod', 'create', '--name', 'onnet', '--network', `podnet${process.pid}`]);
    await env.ok(['run', '-d', '--pod', 'onnet', 'busybox', 'sleep', '600']);
    const infra = (await env.ok(['pod', 'inspect', 'onnet', '--format', '{{.InfraContainerID}}'])).stdout.trim();
    await env.ok(['network', 'rm', '-f', '-t', '0', `podnet${process.pid}`]);
    assert.equal((await env.berth(['pod', 'exists', 'onnet'])).code, 1);
    assert.equal((await env.ok(['ps', '-aq'])).stdout, '');
    assert.deepEqual(leftovers(infra), []);
  });

  it('the members share the pod’s /dev/shm (POSIX shared memory), the infra’s tmpfs, gone with the pod', async () => {
    await env.ok(['pod', 'create', '--name', 'shm']);
    await env.ok(['run', '--rm', '--pod', 'shm', 'busybox', 'sh', '-c', 'echo shared > /dev/shm/seg']);
    assert.equal((await env.ok(['run', '--rm', '--pod', 'shm', 'busybox', 'cat', '/dev/shm/seg'])).stdout, 'shared\n');
    // Still a tmpfs of podman's size and flags, not a directory of the host's disk.
    const mount = (await env.ok(['run', '--rm', '--pod', 'shm', 'busybox', 'grep', ' /dev/shm ', '/proc/mounts'])).stdout;
    assert.match(mount, /^tmpfs \/dev\/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k/);
    const infra = (await env.ok(['pod', 'inspect', 'shm', '--format', '{{.InfraContainerID}}'])).stdout.trim();
    // A container of its own keeps its own.
    assert.equal((await env.berth(['run', '--rm', 'busybox', 'cat', '/dev/shm/seg'])).code, 1);
    // Only the infra is running now: pod rm needs no -f for it, as podman's.
    await env.ok(['pod', 'rm', 'shm']);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(`${infra}/userdata/shm`), 'the infra’s /dev/shm is unmounted');
  });

  it('--pod new:NAME --hostname names the new pod’s host; without it the pod’s name is the hostname', async () => {
    assert.equal((await env.ok(['run', '--rm', '--pod', 'new:hostpod', '--hostname', 'foobar', 'busybox', 'hostname'])).stdout, 'foobar\n');
    assert.equal((await env.ok(['pod', 'inspect', 'hostpod', '--format', '{{.Hostname}}'])).stdout, 'foobar\n');
    await env.ok(['pod', 'rm', 'hostpod']);
    assert.equal((await env.ok(['run', '--rm', '--pod', 'new:hostpod', 'busybox', 'hostname'])).stdout, 'hostpod\n');
    await env.ok(['pod', 'rm', 'hostpod']);
    // Joining an existing pod that shares its UTS namespace, the hostname is still refused.
    await env.ok(['pod', 'create', '--name', 'hostpod']);
    const r = await env.berth(['run', '--rm', '--pod', 'hostpod', '--hostname', 'x', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /cannot set hostname when joining the pod UTS namespace/);
    await env.ok(['pod', 'rm', 'hostpod']);
  });

  it('--exit-policy stop ends the pod with its last container, continue keeps the infra up; kube play’s pods stop', async () => {
    const bad = await env.berth(['pod', 'create', '--exit-policy', 'invalid']);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, 'Error: running pod create option: invalid pod exit policy: "invalid"\n');
    const stateOf = async (pod: string) => (await env.ok(['pod', 'inspect', pod, '--format', '{{.ExitPolicy}} {{.State}}'])).stdout.trim();
    await env.ok(['pod', 'create', '--exit-policy', 'stop', '--name', 'stops']);
    await env.ok(['run', '-d', '--pod', 'stops', '--name', 'stops-long', 'busybox', 'sleep', '600']);
    await env.ok(['run', '--pod', 'stops', 'busybox', 'true']);
    // Another container still runs: the pod stays.
    assert.equal(await stateOf('stops'), 'stop Degraded');
    await env.ok(['stop', '-t', '0', 'stops-long']);
    assert.equal(await stateOf('stops'), 'stop Exited');
    await env.ok(['pod', 'create', '--name', 'continues']);
    await env.ok(['run', '--pod', 'continues', 'busybox', 'true']);
    assert.equal(await stateOf('continues'), 'continue Degraded');
    const yaml = join(env.dir, 'exits.yaml');
    writeFileSync(
      yaml,
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: exits\nspec:\n  containers:\n  - name: ctr\n    image: busybox\n    command: ["true"]\n  restartPolicy: OnFailure\n',
    );
    await env.ok(['kube', 'play', yaml]);
    let state = '';
    for (let i = 0; i < 100 && state !== 'stop Exited'; i++) {
      state = await stateOf('exits');
      if (state !== 'stop Exited') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(state, 'stop Exited');
    await env.ok(['pod', 'rm', '-f', 'stops', 'continues', 'exits']);
  });

  it('--share ipc: the members keep networks and hostnames of their own, and share the pod’s IPC and /dev/shm', async () => {
    await env.ok(['pod', 'create', '--share', 'ipc', '--name', 'ipconly']);
    assert.equal((await env.ok(['pod', 'inspect', 'ipconly', '--format', '{{.SharedNamespaces}}'])).stdout, '[ipc]\n');
    const ns = 'echo x > /dev/shm/seg; hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/net; ip -4 addr show eth0 | grep -c inet';
    await env.ok(['run', '-d', '--pod', 'ipconly', '--name', 'ipc-a', 'busybox', 'sleep', '600']);
    const [hostname, ipc, net, addresses] = (await env.ok(['run', '--rm', '--pod', 'ipconly', '--hostname', 'foobar', 'busybox', 'sh', '-c', ns])).stdout
      .trim()
      .split('\n');
    assert.equal(hostname, 'foobar');
    assert.equal(addresses, '1', 'an address of its own on the default network');
    const other = (await env.ok(['exec', 'ipc-a', 'sh', '-c', 'cat /dev/shm/seg; readlink /proc/self/ns/ipc; readlink /proc/self/ns/net'])).stdout
      .trim()
      .split('\n');
    assert.deepEqual(other.slice(0, 2), ['x', ipc]);
    assert.notEqual(other[2], net);
    // Another container's network: that one's, with the pod's IPC still.
    const owner = (await env.ok(['exec', 'ipc-a', 'readlink', '/proc/self/ns/net'])).stdout;
    const joined = await env.ok([
      'run',
      '--rm',
      '--pod',
      'ipconly',
      '--network',
      'container:ipc-a',
      'busybox',
      'sh',
      '-c',
      'readlink /proc/self/ns/net; cat /dev/shm/seg',
    ]);
    assert.equal(joined.stdout, `${owner}x\n`);
    await env.ok(['pod', 'rm', '-f', '-t', '0', 'ipconly']);
  });

  it('pod create --replace takes the pod of that name with its containers, and only that one', async () => {
    const first = (await env.ok(['pod', 'create', '--name', 'again'])).stdout.trim();
    await env.ok(['create', '--pod', 'again', '--name', 'again-member', 'busybox', 'true']);
    const other = (await env.ok(['pod', 'create', '--name', 'bystander'])).stdout.trim();
    const second = (await env.ok(['pod', 'create', '--replace', '--name', 'again'])).stdout.trim();
    assert.notEqual(second, first);
    assert.equal((await env.berth(['container', 'exists', 'again-member'])).code, 1);
    // A name that is a prefix of another pod's ID replaces no pod but its own.
    const prefix = other.slice(0, 6);
    await env.ok(['pod', 'create', '--replace', '--name', prefix]);
    assert.equal((await env.berth(['pod', 'exists', other])).code, 0);
    await env.ok(['pod', 'rm', '-f', 'again', 'bystander', prefix]);
  });

  it('pod rm of a pod that is not there: exit 1 and podman’s line; with -f or -i, exit 0 and nothing printed', async () => {
    const plain = await env.berth(['pod', 'rm', 'nosuchpod']);
    assert.equal(plain.code, 1);
    assert.equal(plain.stderr, 'Error: no pod with name or ID nosuchpod found: no such pod\n');
    for (const flag of ['-f', '-i']) {
      const r = await env.berth(['pod', 'rm', flag, 'nosuchpod']);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', ''], flag);
    }
  });

  it('container prune leaves a pod’s infra to pod prune; system reset takes pods too', async () => {
    await env.ok(['pod', 'create', '--name', 'kept']);
    await env.ok(['create', '--pod', 'kept', '--name', 'kept-member', 'busybox', 'true']);
    await env.ok(['container', 'prune', '-f']);
    assert.equal((await env.ok(['ps', '-a', '--format', '{{.Names}}', '--filter', 'pod=kept'])).stdout.trim().endsWith('-infra'), true);
    await env.ok(['create', '--pod', 'kept', 'busybox', 'true']);
    await env.ok(['system', 'reset', '-f']);
    assert.equal((await env.berth(['pod', 'exists', 'kept'])).code, 1);
    assert.equal((await env.ok(['ps', '-aq'])).stdout, '');
  });
});
