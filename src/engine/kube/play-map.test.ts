import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBerthError } from '../../util/errors.js';
import { mapPod, parseQuantity, type MapContext } from './play-map.js';
import { planKube } from './play-parse.js';
import { buildDirName, storedSecretData } from './play.js';

const ctx: MapContext = {
  configMaps: new Map([['cfg', { GREETING: Buffer.from('hello'), 'index.html': Buffer.from('<h1>hi</h1>') }]]),
  secrets: new Map([['sec', { PASSWORD: Buffer.from('s3cr3t'), TOKEN: Buffer.from('tok') }]]),
  volumeDir: (name) => `/store/volumes/${name}/_data`,
};

function mapped(spec: string, c: Partial<MapContext> = {}) {
  const plan = planKube({ text: `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n${spec}` }, [], () => undefined);
  return mapPod(plan.pods[0]!, { ...ctx, ...c });
}

function error(spec: string, pattern: RegExp): void {
  assert.throws(
    () => mapped(spec),
    (e: unknown) => isBerthError(e) && pattern.test(e.message),
  );
}

describe('kube play: a pod in berth’s words', { timeout: 10_000 }, () => {
  test('pod options: ports on the pod, hostname, host aliases, DNS, labels', () => {
    const m = mapped(`  hostname: h
  hostAliases: [{ip: 10.0.0.1, hostnames: [a, b]}]
  dnsConfig: {nameservers: [1.1.1.1], searches: [example.com], options: [{name: ndots, value: "2"}, {name: edns0}]}
  containers:
  - name: c
    image: busybox
    ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 53, hostPort: 5353, protocol: UDP, hostIP: 127.0.0.1}, {containerPort: 9}]
`);
    assert.deepEqual(m.pod, {
      name: 'web',
      exitPolicy: 'stop',
      publish: ['8080:80', '127.0.0.1:5353:53/udp'],
      hostname: 'h',
      addHosts: ['a:10.0.0.1', 'b:10.0.0.1'],
      dns: ['1.1.1.1'],
      dnsSearch: ['example.com'],
      dnsOptions: ['ndots:2', 'edns0'],
      labels: [],
    });
    assert.deepEqual(mapped('  hostNetwork: true\n  containers: [{name: c, image: i, ports: [{containerPort: 80, hostPort: 80}]}]\n').pod.network, ['host']);
    assert.deepEqual(mapped('  containers: [{name: c, image: i}]\n', { network: ['mynet'] }).pod.network, ['mynet']);
  });

  test('a container: named <pod>-<container>, command → entrypoint, args → cmd, workdir, restart policy, limits, security', () => {
    const m = mapped(`  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: busybox
    command: [sh, -c]
    args: [echo hi]
    workingDir: /work
    imagePullPolicy: Never
    resources: {limits: {memory: 64Mi, cpu: 500m}}
    securityContext: {capabilities: {add: [NET_ADMIN], drop: [MKNOD]}, runAsUser: 1000, runAsGroup: 100, privileged: true, readOnlyRootFilesystem: true}
    livenessProbe: {exec: {command: [cat, /tmp/ok]}, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 4, initialDelaySeconds: 1}
    tty: true
`);
    const c = m.containers[0]!;
    assert.equal(c.name, 'web-app');
    assert.equal(c.entrypoint, '["sh","-c"]');
    assert.deepEqual(c.command, ['echo hi']);
    assert.equal(c.workdir, '/work');
    assert.equal(c.createWorkdir, true);
    assert.equal(c.restart, 'on-failure');
    assert.equal(c.stopTimeout, 5);
    assert.equal(c.pull, 'never');
    assert.equal(c.memory, `${64 * 1024 * 1024}`);
    assert.equal(c.cpus, '0.5');
    assert.deepEqual([c.capAdd, c.capDrop, c.user, c.privileged, c.readOnly, c.tty], [['NET_ADMIN'], ['MKNOD'], '1000:100', true, true, true]);
    assert.deepEqual(c.health, {
      healthCmd: '["CMD","cat","/tmp/ok"]',
      healthInterval: '5s',
      healthTimeout: '2s',
      healthRetries: '4',
      healthStartPeriod: '1s',
    });
    const shellProbe = mapped("  containers: [{name: c, image: i, livenessProbe: {exec: {command: [/bin/sh, -c, 'test -f /ok || exit 1']}}}]\n");
    assert.equal(shellProbe.containers[0]!.health?.healthCmd, '["CMD-SHELL","test -f /ok || exit 1"]');
    // Kubernetes' default restart policy is Always, as podman plays it.
    assert.equal(mapped('  containers: [{name: c, image: i}]\n').containers[0]!.restart, 'always');
    assert.equal(mapped('  containers: [{name: c, image: i, args: [x]}]\n').containers[0]!.entrypoint, undefined);
  });

  test('env: values, ConfigMap and Secret keys (optional ones may be missing), envFrom with a prefix; env wins over envFrom', () => {
    const m = mapped(`  containers:
  - name: c
    image: i
    envFrom: [{configMapRef: {name: cfg}, prefix: CM_}, {secretRef: {name: sec}}, {secretRef: {name: nope, optional: true}}]
    env:
    - {name: PLAIN, value: v}
    - {name: EMPTY}
    - {name: TOKEN, value: mine}
    - {name: G, valueFrom: {configMapKeyRef: {name: cfg, key: GREETING}}}
    - {name: P, valueFrom: {secretKeyRef: {name: sec, key: PASSWORD}}}
    - {name: O, valueFrom: {secretKeyRef: {name: sec, key: missing, optional: true}}}
`);
    assert.deepEqual(m.containers[0]!.env, [
      'CM_GREETING=hello',
      'CM_index.html=<h1>hi</h1>',
      'PASSWORD=s3cr3t',
      'TOKEN=tok',
      'PLAIN=v',
      'EMPTY=',
      'TOKEN=mine',
      'G=hello',
      'P=s3cr3t',
    ]);
  });

  test('env naming what is not there: the field path', () => {
    error(
      '  containers:\n  - {name: c, image: i, env: [{name: X, valueFrom: {configMapKeyRef: {name: other, key: K}}}]}\n',
      /spec\.containers\[0\]\.env\[0\]\.valueFrom\.configMapKeyRef\.name: no ConfigMap named "other"$/,
    );
    error(
      '  containers:\n  - {name: c, image: i, env: [{name: X, valueFrom: {secretKeyRef: {name: sec, key: K}}}]}\n',
      /spec\.containers\[0\]\.env\[0\]\.valueFrom\.secretKeyRef\.key: no key "K" in Secret "sec"$/,
    );
    error(
      '  containers:\n  - {name: c, image: i, envFrom: [{secretRef: {name: nope}}]}\n',
      /spec\.containers\[0\]\.envFrom\[0\]\.secretRef\.name: no Secret named "nope"$/,
    );
    error(
      '  containers:\n  - {name: c, image: i, resources: {limits: {memory: lots}}}\n',
      /spec\.containers\[0\]\.resources\.limits\.memory: invalid quantity: lots$/,
    );
  });

  test('volumes: claim → named volume, hostPath → bind, configMap and secret → named volumes of their files, read-only; emptyDir → a shared anonymous volume or a tmpfs', () => {
    const m = mapped(`  containers:
  - name: a
    image: i
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: host, mountPath: /host, readOnly: true}
    - {name: site, mountPath: /www}
    - {name: sec, mountPath: /sec}
    - {name: scratch, mountPath: /scratch}
    - {name: mem, mountPath: /mem}
    - {name: site, mountPath: /etc/one.html, subPath: index.html}
    - {name: data, mountPath: /logs, subPath: logs}
  - name: b
    image: i
    volumeMounts: [{name: scratch, mountPath: /shared}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: claim}}
  - {name: host, hostPath: {path: /srv/x, type: DirectoryOrCreate}}
  - {name: site, configMap: {name: cfg, items: [{key: index.html, path: index.html, mode: 0600}, {key: GREETING, path: sub/greeting}]}}
  - {name: sec, secret: {secretName: sec}}
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
`);
    const [a, b] = m.containers;
    const empty = m.volumes.find((v) => v.kind === 'emptyDir')!.name;
    assert.match(empty, /^[0-9a-f]{64}$/);
    assert.deepEqual(a!.volumes, [
      'claim:/data',
      '/srv/x:/host:ro',
      'cfg:/www:ro',
      'sec:/sec:ro',
      `${empty}:/scratch`,
      '/store/volumes/cfg/_data/index.html:/etc/one.html:ro',
      '/store/volumes/claim/_data/logs:/logs',
    ]);
    assert.deepEqual(a!.tmpfs, [`/mem:size=${1024 * 1024}`]);
    assert.deepEqual(b!.volumes, [`${empty}:/shared`]);
    assert.deepEqual(m.subPaths, [{ volume: 'claim', path: 'logs' }]);
    assert.deepEqual(m.hostPaths, [{ path: '/srv/x', type: 'DirectoryOrCreate', where: 'document 1 (Pod "web")', field: 'spec.volumes[1].hostPath' }]);
    const cfg = m.volumes.find((v) => v.name === 'cfg')!;
    assert.deepEqual(
      Object.entries(cfg.files!).map(([p, f]) => [p, f.data.toString(), f.mode]),
      [
        ['index.html', '<h1>hi</h1>', 0o600],
        ['sub/greeting', 'hello', 0o644],
      ],
    );
    const sec = m.volumes.find((v) => v.name === 'sec')!;
    assert.deepEqual(
      Object.entries(sec.files!).map(([p, f]) => [p, f.data.toString(), f.mode]),
      [
        ['PASSWORD', 's3cr3t', 0o400],
        ['TOKEN', 'tok', 0o400],
      ],
    );
  });

  test('volumes naming what is not there, or paths berth cannot mount: the field path', () => {
    const one = (vol: string) => `  containers: [{name: c, image: i, volumeMounts: [{name: v, mountPath: /v}]}]\n  volumes: [${vol}]\n`;
    error(one('{name: v, configMap: {name: other}}'), /spec\.volumes\[0\]\.configMap\.name: no ConfigMap named "other" in the file or --configmap$/);
    error(one('{name: v, secret: {secretName: other}}'), /spec\.volumes\[0\]\.secret\.secretName: no Secret named "other" in the file or the store$/);
    error(
      one('{name: v, configMap: {name: cfg, items: [{key: nope, path: x}]}}'),
      /spec\.volumes\[0\]\.configMap\.items\[0\]\.key: no key "nope" in ConfigMap "cfg"$/,
    );
    error(one('{name: v, configMap: {name: cfg, items: [{key: GREETING, path: ../x}]}}'), /items\[0\]\.path: must be a relative path inside the volume/);
    error(one('{name: v, configMap: {name: cfg, items: [{key: GREETING, path: a/../../x}]}}'), /items\[0\]\.path: must be a relative path inside the volume/);
    error(one('{name: v, configMap: {name: cfg, items: [{key: GREETING, path: /etc/x}]}}'), /items\[0\]\.path: must be a relative path inside the volume/);
    error(
      `  containers: [{name: c, image: i, volumeMounts: [{name: v, mountPath: /v, subPath: ../../etc}]}]\n  volumes: [{name: v, persistentVolumeClaim: {claimName: d}}]\n`,
      /volumeMounts\[0\]\.subPath: must be a relative path inside the volume.*: \.\.\/\.\.\/etc$/,
    );
    error(one('{name: v, configMap: {name: cfg, defaultMode: 4096}}'), /configMap\.defaultMode: file mode out of range/);
    error(one('{name: v, hostPath: {path: relative}}'), /spec\.volumes\[0\]\.hostPath\.path: must be an absolute path: relative$/);
    error(one('{name: v, hostPath: {path: "/a:b"}}'), /hostPath\.path: a path with a colon cannot be mounted/);
    assert.deepEqual(mapped(one('{name: v, configMap: {name: other, optional: true}}')).volumes[0]!.files, {});
    // podman reads `-v` options after a colon in a mountPath; a second colon or an unknown option is refused.
    const withPath = (path: string, readOnly = false) =>
      `  containers: [{name: c, image: i, volumeMounts: [{name: v, mountPath: "${path}"${readOnly ? ', readOnly: true' : ''}}]}]\n  volumes: [{name: v, hostPath: {path: /srv}}]\n`;
    assert.deepEqual(mapped(withPath('/testdir:z')).containers[0]!.volumes, ['/srv:/testdir:z']);
    assert.deepEqual(mapped(withPath('/d:ro,Z')).containers[0]!.volumes, ['/srv:/d:Z,ro']);
    assert.deepEqual(mapped(withPath('/d:rw', true)).containers[0]!.volumes, ['/srv:/d:ro']);
    // Every option `-v` takes, as podman validates both with one list.
    assert.deepEqual(mapped(withPath('/d:runbindable')).containers[0]!.volumes, ['/srv:/d:runbindable']);
    error(withPath('/a:b:c'), /volumeMounts\[0\]\.mountPath: "\/a:b:c" incorrect volume format, should be ctr-dir\[:option\]$/);
    error(withPath('/a:bogus'), /volumeMounts\[0\]\.mountPath: invalid option "bogus" in "\/a:bogus"$/);
  });

  test('quantities as Kubernetes writes them', () => {
    assert.equal(parseQuantity('64Mi'), 64 * 2 ** 20);
    assert.equal(parseQuantity('1G'), 1e9);
    assert.equal(parseQuantity('500m'), 0.5);
    assert.equal(parseQuantity('1.5'), 1.5);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity(2), 2);
    assert.equal(parseQuantity('12 apples'), undefined);
  });

  test("--build's directory is the image's name without registry, tag or digest; stored secrets in both podman shapes", () => {
    assert.equal(buildDirName('localhost/myapp:1.0'), 'myapp');
    assert.equal(buildDirName('registry:5000/team/web@sha256:abc'), 'web');
    assert.equal(buildDirName('busybox'), 'busybox');
    const k8s = storedSecretData(Buffer.from(JSON.stringify({ kind: 'Secret', data: { A: Buffer.from('x').toString('base64') }, stringData: { B: 'y' } })))!;
    assert.deepEqual([k8s.A!.toString(), k8s.B!.toString()], ['x', 'y']);
    const podman43 = storedSecretData(Buffer.from('{"PASSWORD":"czNjcjN0"}'))!;
    assert.equal(podman43.PASSWORD!.toString(), 's3cr3t');
    assert.equal(storedSecretData(Buffer.from('plain bytes')), undefined);
  });
});
