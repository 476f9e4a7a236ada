import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pod, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { hasCommand, podmanArgs, podmanEnv, run, type RunResult } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';
import { freePort } from '../testing/registry.js';

/**
 * `kube generate` of real containers: the YAML validates against the Kubernetes schema, and
 * podman 4.3 plays it (created, not started) into the same images, commands, env, ports and mounts.
 */

/** podman on a throwaway vfs store in the test's directory, with the capped rlimits this host needs. */
function podman(env: ContainerEnv, args: string[]): Promise<RunResult> {
  const p = join(env.dir, 'podman');
  return run('podman', [...podmanArgs(p, 'vfs'), ...args], {
    env: podmanEnv(p),
    timeoutMs: 120_000,
  });
}

async function podmanOk(env: ContainerEnv, args: string[]): Promise<RunResult> {
  const r = await podman(env, args);
  assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** A container's process as podman's inspect has it: Path and Args (its Entrypoint is one string in 4.3). */
const processOf = (inspected: Record<string, any>) => [inspected['Path'], ...(inspected['Args'] ?? [])];

/** The YAML's documents as objects, each checked against the schema of its kind. */
function documents(text: string): Record<string, any>[] {
  const docs = parseAllDocuments(text).map((d) => d.toJS() as Record<string, any>);
  for (const d of docs) {
    const Model = d.kind === 'Pod' ? Pod : d.kind === 'Service' ? Service : undefined;
    assert.ok(Model, `unexpected kind ${d.kind}`);
    new Model(d as never).validate();
  }
  return docs;
}

describe('kube generate', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  before(async () => {
    env = await containerEnv();
  });
  after(async () => {
    if (hasCommand('podman')) await podman(env, ['system', 'reset', '-f']);
    await env?.berth(['pod', 'rm', '-a', '-f', '-t', '0']);
    await env?.berth(['volume', 'rm', '-a', '-f']);
    env?.cleanup();
  });

  it('a two-container pod: schema-valid YAML that podman plays into the same containers', { skip: !hasCommand('podman') }, async () => {
    const port = await freePort();
    const site = join(env.dir, 'site');
    mkdirSync(site);
    await env.ok(['pod', 'create', '--name', 'web', '-p', `${port}:80`, '--add-host', 'db:10.1.2.3']);
    await env.ok(
      ['create', '--pod', 'web', '--name', 'app', '-e', 'GREETING=hello world', '-v', 'webdata:/data', '-v', `${site}:/srv:ro`]
        .concat(['--health-cmd', 'nc -z localhost 80', '--health-interval', '15s', '--restart', 'always', '--cap-add', 'NET_ADMIN', '--user', '1000'])
        .concat(['busybox', 'httpd', '-f', '-p', '80', '-h', '/srv']),
    );
    await env.ok(['create', '--pod', 'web', '--name', 'side', 'busybox', 'sleep', '1000']);
    const generated = await env.ok(['kube', 'generate', 'web']);
    assert.match(generated.stdout, /^# Save the output of this file and use kubectl create -f to import\n/);
    const [pod] = documents(generated.stdout);
    assert.equal(pod!['metadata'].name, 'web');
    const [app, side] = pod!['spec'].containers as Record<string, any>[];
    assert.deepEqual(app!['ports'], [{ containerPort: 80, hostPort: port }]);
    assert.deepEqual(app!['livenessProbe'].exec.command, ['nc', '-z', 'localhost', '80']);
    assert.equal(app!['livenessProbe'].periodSeconds, 15);
    assert.deepEqual(app!['securityContext'], { capabilities: { add: ['CAP_NET_ADMIN'] }, runAsUser: 1000 });
    assert.equal(side!['name'], 'side');
    assert.equal(pod!['spec'].restartPolicy, 'Always');
    assert.deepEqual(pod!['spec'].hostAliases, [{ ip: '10.1.2.3', hostnames: ['db'] }]);

    // podman 4.3 plays it: the pod and its containers, created (nothing runs), with what berth's had.
    const tarball = join(env.dir, 'busybox.tar');
    await podmanOk(env, ['import', '--change', 'CMD ["sh"]', tarball, 'busybox']);
    const file = join(env.dir, 'web.yaml');
    writeFileSync(file, generated.stdout);
    await podmanOk(env, ['kube', 'play', '--start=false', file]);
    try {
      const [played] = JSON.parse((await podmanOk(env, ['container', 'inspect', 'web-app'])).stdout) as Record<string, any>[];
      assert.equal(played!['ImageName'], 'localhost/busybox:latest');
      assert.deepEqual(processOf(played!), ['httpd', '-f', '-p', '80', '-h', '/srv']);
      assert.ok(played!['Config'].Env.includes('GREETING=hello world'), played!['Config'].Env.join(' '));
      assert.ok(!played!['Config'].Env.some((e: string) => e.startsWith('container=berth')));
      assert.equal(played!['Config'].User, '1000');
      // podman runs the probe's words through a shell: the same command as berth's healthcheck
      assert.match(played!['Config'].Healthcheck.Test.slice(1).join(' '), /^nc -z localhost 80 \|\| /);
      assert.equal(played!['HostConfig'].RestartPolicy.Name, 'always');
      assert.deepEqual(played!['HostConfig'].CapAdd, ['CAP_NET_ADMIN']);
      const mounts = (played!['Mounts'] as Record<string, any>[]).map((m) => ({
        type: m['Type'],
        name: m['Name'],
        source: m['Type'] === 'bind' ? m['Source'] : undefined,
        dest: m['Destination'],
        rw: m['RW'],
      }));
      assert.deepEqual(
        mounts.sort((a, b) => a.dest.localeCompare(b.dest)),
        [
          { type: 'volume', name: 'webdata', source: undefined, dest: '/data', rw: true },
          { type: 'bind', name: undefined, source: site, dest: '/srv', rw: false },
        ],
      );
      const [sidecar] = JSON.parse((await podmanOk(env, ['container', 'inspect', 'web-side'])).stdout) as Record<string, any>[];
      assert.deepEqual(processOf(sidecar!), ['sleep', '1000']);
      const podInfo = JSON.parse((await podmanOk(env, ['pod', 'inspect', 'web'])).stdout) as Record<string, any>;
      assert.deepEqual(podInfo['InfraConfig'].PortBindings, { '80/tcp': [{ HostIp: '', HostPort: String(port) }] });
      assert.deepEqual(podInfo['InfraConfig'].HostAdd, ['db:10.1.2.3']);
    } finally {
      await podmanOk(env, ['kube', 'down', file]);
      await podman(env, ['volume', 'rm', '-f', 'webdata']);
    }
    assert.equal((await podmanOk(env, ['ps', '-aq'])).stdout, '', 'kube down left nothing');
  });

  it('a round trip in berth: generate, remove the pod, play the YAML: the same images, commands, env, ports and mounts', async () => {
    const port = await freePort();
    const site = join(env.dir, 'trip-site');
    mkdirSync(site);
    await env.ok(['pod', 'create', '--name', 'trip', '-p', `${port}:8080`]);
    await env.ok([
      'create',
      '--pod',
      'trip',
      '--name',
      'trip-web',
      '-e',
      'MODE=round trip',
      '-v',
      'tripdata:/data',
      '-v',
      `${site}:/srv:ro`,
      'busybox',
      'httpd',
      '-f',
      '-p',
      '8080',
      '-h',
      '/srv',
    ]);
    await env.ok(['create', '--pod', 'trip', '--name', 'trip-side', '--entrypoint', '/bin/sh', 'busybox', '-c', 'sleep 1000']);
    /** What a round trip must keep of a container (its name aside: kube play names it `<pod>-<container>`). */
    const kept = async (name: string) => {
      const [c] = JSON.parse((await env.ok(['container', 'inspect', name])).stdout) as Record<string, any>[];
      return {
        image: c!['ImageName'],
        process: [c!['Path'], ...(c!['Args'] ?? [])],
        env: (c!['Config'].Env as string[]).filter((e) => !e.startsWith('HOSTNAME=')).sort(),
        mounts: (c!['Mounts'] as Record<string, any>[])
          .map((m) => ({ type: m['Type'], name: m['Name'], source: m['Type'] === 'bind' ? m['Source'] : undefined, dest: m['Destination'], rw: m['RW'] }))
          .sort((a, b) => a.dest.localeCompare(b.dest)),
      };
    };
    const ports = async () => (await env.ok(['pod', 'inspect', 'trip', '--format', '{{json .InfraConfig.PortBindings}}'])).stdout;
    const before = { web: await kept('trip-web'), side: await kept('trip-side'), ports: await ports() };
    const file = join(env.dir, 'trip.yaml');
    await env.ok(['kube', 'generate', '-f', file, 'trip']);
    documents(readFileSync(file, 'utf8'));
    await env.ok(['pod', 'rm', '-f', 'trip']);
    await env.ok(['kube', 'play', '--start=false', file]);
    // The generated YAML names the containers as they were; kube play prefixes the pod's name.
    const after = { web: await kept('trip-trip-web'), side: await kept('trip-trip-side'), ports: await ports() };
    assert.deepEqual(after, before);
    assert.equal(before.web.mounts.find((m) => m.dest === '/data')?.name, 'tripdata');
    await env.ok(['kube', 'down', file]);
    assert.equal((await env.berth(['pod', 'exists', 'trip'])).code, 1);
  });

  it('a lone container with --service into a new file (never over one), and podman’s refusals', async () => {
    const port = await freePort();
    await env.ok(['create', '--name', 'lone', '-p', `${port}:91/udp`, 'busybox', 'sleep', '1']);
    const file = join(env.dir, 'lone.yaml');
    assert.equal((await env.ok(['kube', 'generate', '-s', '-f', file, 'lone'])).stdout, '');
    const [service, pod] = documents(readFileSync(file, 'utf8'));
    assert.equal(service!['kind'], 'Service');
    assert.equal(pod!['kind'], 'Pod');
    assert.equal(pod!['metadata'].name, 'lone-pod');
    assert.deepEqual(service!['spec'].selector, { app: 'lone-pod' });
    const [nodePort] = service!['spec'].ports as Record<string, any>[];
    assert.deepEqual({ ...nodePort, nodePort: 0 }, { name: '91', port: 91, targetPort: 91, protocol: 'UDP', nodePort: 0 });
    assert.ok(nodePort!['nodePort'] >= 30000 && nodePort!['nodePort'] <= 32767);
    const again = await env.berth(['generate', 'kube', '-f', file, 'lone']);
    assert.equal(again.code, 125);
    assert.equal(again.stderr, `Error: cannot write to ${JSON.stringify(file)}; file exists\n`);
    const nowhere = join(env.dir, 'nowhere', 'x.yaml');
    const unwritable = await env.berth(['kube', 'generate', '-f', nowhere, 'lone']);
    assert.equal(unwritable.stderr, `Error: cannot write to ${JSON.stringify(nowhere)}: open ${nowhere}: no such file or directory\n`);
    await env.ok(['create', '--pod', 'new:solo', '--name', 'member', 'busybox', 'true']);
    const member = await env.berth(['kube', 'generate', 'member']);
    assert.equal(member.code, 125);
    assert.match(member.stderr, /^Error: container [0-9a-f]{64} is associated with pod [0-9a-f]{64}: use generate on the pod itself\n$/);
    const missing = await env.berth(['kube', 'generate', 'nosuch']);
    assert.equal(missing.stderr, 'Error: name or ID "nosuch" not found\n');
    assert.equal(missing.code, 125);
  });
});
