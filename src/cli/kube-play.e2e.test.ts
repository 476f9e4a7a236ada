import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxRootfs, hasCommand, podmanArgs, podmanEnv, run, type RunResult } from '../testing/cli.js';
import { containerEnv, type ContainerEnv } from '../testing/containers.js';
import { freePort } from '../testing/registry.js';
import { waitFor } from '../testing/wait.js';

/**
 * The proof for `kube play`: a two-container Pod with a ConfigMap, a Secret, a claim and a
 * hostPort, reached from the host; `kube down` leaves nothing but the claim's volume; the same pod
 * in podman 4.3 serves the same page with the same environment; and YAML that `podman kube
 * generate` wrote plays in berth.
 */

const SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: web-secret
data:
  PASSWORD: czNjcjN0
stringData:
  TOKEN: tok
`;

/** The ConfigMap, the claim and the Pod: the httpd serves the ConfigMap's page from the claim, the reader holds the env. */
const podYaml = (port: number) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  GREETING: hello
  index.html: "<h1>from configmap</h1>"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: web-data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  restartPolicy: Never
  containers:
  - name: httpd
    image: localhost/busybox:latest
    command: [sh, -c, 'cp /config/index.html /data/ && exec httpd -f -p 8080 -h /data']
    ports:
    - {containerPort: 8080, hostPort: ${port}}
    volumeMounts:
    - {name: site, mountPath: /config, readOnly: true}
    - {name: data, mountPath: /data}
  - name: reader
    image: localhost/busybox:latest
    command: [sleep, "1000"]
    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: web-config, key: GREETING}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: web-secret, key: PASSWORD}}
    envFrom:
    - secretRef: {name: web-secret}
  volumes:
  - name: site
    configMap: {name: web-config}
  - name: data
    persistentVolumeClaim: {claimName: web-data}
`;

/** The page on the host port, once the httpd answers. */
async function page(port: number): Promise<string> {
  return waitFor(
    `the page on port ${port}`,
    async () => {
      const r = await fetch(`http://127.0.0.1:${port}/index.html`).catch(() => undefined);
      return r?.ok ? r.text() : undefined;
    },
    20_000,
  );
}

async function portClosed(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then(
    () => false,
    () => true,
  );
}

/** The variables the pod's env and envFrom set, from `env` inside the reader. */
const podEnv = (r: RunResult) =>
  r.stdout
    .split('\n')
    .filter((l) => /^(GREETING|PASSWORD|TOKEN)=/.test(l))
    .sort();

/** podman 4.3 on a throwaway vfs store in the test's directory; what it runs is removed in after(). */
function podman(env: ContainerEnv, args: string[], input?: string): Promise<RunResult> {
  const p = join(env.dir, 'podman');
  return run('podman', [...podmanArgs(p, 'vfs'), ...args], {
    env: podmanEnv(p),
    timeoutMs: 120_000,
    ...(input !== undefined ? { input } : {}),
  });
}

async function podmanOk(env: ContainerEnv, args: string[], input?: string): Promise<RunResult> {
  const r = await podman(env, args, input);
  assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
  return r;
}

describe('kube play and kube down', { timeout: 300_000 }, () => {
  let env: ContainerEnv;
  let usedPodman = false;
  before(async () => {
    env = await containerEnv();
  });
  after(async () => {
    await env?.berth(['pod', 'rm', '-a', '-f', '-t', '0']);
    await env?.berth(['secret', 'rm', '-a']);
    await env?.berth(['volume', 'rm', '-a', '-f']);
    if (usedPodman) {
      await podman(env, ['pod', 'rm', '-a', '-f', '-t', '0']);
      await podman(env, ['rm', '-a', '-f', '-t', '0']);
      await podman(env, ['volume', 'rm', '-a', '-f']);
      await podman(env, ['secret', 'rm', '-a']);
    }
    env?.cleanup();
  });

  it('plays the two-container pod: the page on the hostPort, env from the ConfigMap and Secret, files mounted; kube down leaves only the claim', async () => {
    const port = await freePort();
    const file = join(env.dir, 'web.yaml');
    // berth's file also mounts the Secret as files (podman 4.3 fails on a secret volume: not in its file).
    const withSecretVolume = podYaml(port)
      .replace('    envFrom:\n', '    volumeMounts:\n    - {name: sec, mountPath: /sec}\n    envFrom:\n')
      .replace('  volumes:\n', '  volumes:\n  - name: sec\n    secret: {secretName: web-secret}\n');
    writeFileSync(file, `${SECRET}---\n${withSecretVolume}`);
    const played = await env.ok(['kube', 'play', file]);
    const names = (await env.ok(['ps', '-a', '--filter', 'pod=web', '--format', '{{.Names}}'])).stdout.trim().split('\n').sort();
    const podId = (await env.ok(['pod', 'inspect', 'web', '--format', '{{.Id}}'])).stdout.trim();
    assert.deepEqual(names, [`${podId.slice(0, 12)}-infra`, 'web-httpd', 'web-reader'], 'the infra and the two containers, named as podman names them');
    // podman's report: the claim's volume, then the pod and its containers.
    assert.match(played.stdout, new RegExp(`^Volumes:\nweb-data\nPod:\n${podId}\nContainers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\n$`));

    assert.equal(await page(port), '<h1>from configmap</h1>');
    assert.deepEqual(podEnv(await env.ok(['exec', 'web-reader', 'env'])), ['GREETING=hello', 'PASSWORD=s3cr3t', 'TOKEN=tok']);
    assert.equal((await env.ok(['exec', 'web-httpd', 'cat', '/config/GREETING'])).stdout, 'hello');
    assert.equal((await env.ok(['exec', 'web-reader', 'sh', '-c', 'cat /sec/TOKEN; stat -c " %a" /sec/PASSWORD'])).stdout, 'tok 400\n');
    const refused = await env.berth(['exec', 'web-httpd', 'sh', '-c', 'echo x > /config/new']);
    assert.notEqual(refused.code, 0, 'the ConfigMap is mounted read-only');
    assert.deepEqual(
      JSON.parse((await env.ok(['secret', 'ls', '--format', 'json'])).stdout).map((s: { Name: string }) => s.Name),
      ['web-secret'],
    );

    const down = await env.ok(['kube', 'down', file]);
    assert.match(
      down.stdout,
      new RegExp(`^Pods stopped:\n${podId}\nPods removed:\n${podId}\nSecrets removed:\n[0-9a-f]+\nVolumes removed:\nweb-config\nweb-secret\n$`),
    );
    assert.equal((await env.ok(['ps', '-a', '-q'])).stdout, '');
    assert.equal((await env.ok(['pod', 'ps', '-q'])).stdout, '');
    assert.equal((await env.ok(['secret', 'ls', '-q'])).stdout, '');
    // The claim's volume stays, as podman keeps it, with what the pod wrote.
    assert.equal((await env.ok(['volume', 'ls', '-q'])).stdout, 'web-data\n');
    assert.ok(await portClosed(port), 'the port is closed');
    await env.ok(['volume', 'rm', 'web-data']);
  });

  it('an invalid file: one Error line naming the document and field, exit 125, nothing made', async () => {
    const port = await freePort();
    const bad = `${SECRET}---\n${podYaml(port).replace('    image: localhost/busybox:latest\n    command: [sleep', '    command: [sleep')}`;
    const r = await env.berth(['kube', 'play', '-'], { input: bad });
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'Error: kube play: document 4 (Pod "web"): spec.containers[1].image: required field missing\n');
    assert.equal((await env.ok(['secret', 'ls', '-q'])).stdout, '');
    assert.equal((await env.ok(['volume', 'ls', '-q'])).stdout, '');
    assert.equal((await env.ok(['pod', 'ps', '-q'])).stdout, '');
  });

  it('--log-driver none reaches every container of the pod; an unknown driver is refused before anything is made', async () => {
    const file = 'apiVersion: v1\nkind: Pod\nmetadata: {name: quiet}\nspec:\n  containers: [{name: c, image: localhost/busybox:latest, command: ["true"]}]\n';
    const bogus = await env.berth(['kube', 'play', '--log-driver', 'bogus', '-'], { input: file });
    assert.equal(bogus.code, 125);
    assert.equal(bogus.stderr, 'Error: invalid log driver: bogus\n');
    assert.equal((await env.ok(['pod', 'ps', '-q'])).stdout, '');
    await env.ok(['kube', 'play', '--start=false', '--log-driver', 'none', '-'], { input: file });
    const names = (await env.ok(['ps', '-a', '--filter', 'pod=quiet', '--format', '{{.Names}}'])).stdout.trim().split('\n');
    const app = names.find((n) => !n.endsWith('-infra'))!;
    assert.equal((await env.ok(['inspect', '--format', '{{.HostConfig.LogConfig.Type}}', app])).stdout.trim(), 'none');
    await env.ok(['kube', 'down', '-'], { input: file });
  });

  it('a ConfigMap volume whose name is a volume with a link inside: refused, nothing written where the link points', async () => {
    await env.ok(['volume', 'create', 'linked']);
    const data = (await env.ok(['volume', 'inspect', '--format', '{{.Mountpoint}}', 'linked'])).stdout.trim();
    const outside = join(env.dir, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(data, 'sub'));
    const file = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: linked}\ndata: {f: x}\n---',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: linkpod}\nspec:\n  containers: [{name: c, image: localhost/busybox:latest, command: ["true"], volumeMounts: [{name: v, mountPath: /v}]}]',
      '  volumes: [{name: v, configMap: {name: linked, items: [{key: f, path: sub/f}]}}]\n',
    ].join('\n');
    const r = await env.berth(['kube', 'play', '--start=false', '-'], { input: file });
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: kube play: volume linked: sub leads out of the volume/);
    assert.deepEqual(readdirSync(outside), []);
    assert.equal((await env.ok(['pod', 'ps', '-q'])).stdout, '');
    await env.ok(['volume', 'rm', 'linked']);
  });

  it('a pod of that name already there: podman’s words, exit 125, the pod untouched', async () => {
    const file = 'apiVersion: v1\nkind: Pod\nmetadata: {name: twice}\nspec:\n  containers: [{name: c, image: localhost/busybox:latest, command: ["true"]}]\n';
    await env.ok(['kube', 'play', '--start=false', '-'], { input: file });
    const r = await env.berth(['kube', 'play', '--start=false', '-'], { input: file });
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'Error: kube play: name "twice" is in use: pod already exists (use --replace, or kube down first)\n');
    await env.ok(['pod', 'rm', '-f', 'twice']);
  });

  it('the same pod in podman 4.3 serves the same page with the same environment', { skip: !hasCommand('podman') }, async () => {
    usedPodman = true;
    const tar = join(env.dir, 'busybox.tar');
    if (!existsSync(tar)) await busyboxRootfs(tar);
    // podman's kube play gives no default PATH to an image without one.
    await podmanOk(env, ['import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin', tar, 'localhost/busybox:latest']);
    // podman 4.3 stores a Secret document as YAML and then reads it back as JSON (its env from a
    // Secret fails); it reads a secret made beforehand as a JSON map of base64 values.
    const secret = join(env.dir, 'secret.json');
    writeFileSync(secret, JSON.stringify({ PASSWORD: 'czNjcjN0', TOKEN: Buffer.from('tok').toString('base64') }));
    await podmanOk(env, ['secret', 'create', 'web-secret', secret]);
    const port = await freePort();
    const file = join(env.dir, 'podman.yaml');
    writeFileSync(file, podYaml(port));
    await podmanOk(env, ['kube', 'play', file]);
    assert.equal(await page(port), '<h1>from configmap</h1>');
    assert.deepEqual(podEnv(await podmanOk(env, ['exec', 'web-reader', 'env'])), ['GREETING=hello', 'PASSWORD=s3cr3t', 'TOKEN=tok']);
    assert.equal((await podmanOk(env, ['exec', 'web-httpd', 'cat', '/config/GREETING'])).stdout, 'hello');
    await podmanOk(env, ['kube', 'down', file]);
    assert.ok(await portClosed(port));
  });

  it('YAML that podman kube generate wrote plays in berth', { skip: !hasCommand('podman') }, async () => {
    usedPodman = true;
    const port = await freePort();
    const tar = join(env.dir, 'busybox.tar');
    if (!existsSync(tar)) await busyboxRootfs(tar);
    if ((await podman(env, ['image', 'exists', 'localhost/busybox:latest'])).code !== 0)
      await podmanOk(env, ['import', '--change', 'CMD ["sh"]', tar, 'localhost/busybox:latest']);
    const host = join(env.dir, 'site');
    mkdirSync(host);
    writeFileSync(join(host, 'index.html'), 'generated');
    await podmanOk(env, ['pod', 'create', '--name', 'gen', '-p', `${port}:80`]);
    await podmanOk(env, [
      'create',
      '--pod',
      'gen',
      '--name',
      'srv',
      '-e',
      'A=b',
      '-v',
      `${host}:/www:ro`,
      '-v',
      'genvol:/data',
      '--memory',
      '64m',
      '-w',
      '/www',
      'localhost/busybox:latest',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/www',
    ]);
    const yaml = (await podmanOk(env, ['kube', 'generate', 'gen'])).stdout;
    await podmanOk(env, ['pod', 'rm', '-f', 'gen']);
    const r = await env.berth(['kube', 'play', '-'], { input: yaml });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Warning/, 'podman’s own fields pass without warnings');
    try {
      assert.equal(await page(port), 'generated');
      const inspect = JSON.parse((await env.ok(['container', 'inspect', 'gen-srv'])).stdout)[0];
      assert.ok(inspect.Config.Env.includes('A=b'));
      assert.equal(inspect.Config.WorkingDir, '/www');
      assert.equal(inspect.HostConfig.Memory, 64 * 1024 * 1024);
    } finally {
      await env.ok(['kube', 'down', '-'], { input: yaml });
    }
    assert.equal((await env.ok(['pod', 'ps', '-q'])).stdout, '');
    await env.ok(['volume', 'rm', 'genvol']);
  });
});
