import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PersistentVolumeClaim, Pod, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import type { ContainerConfig } from '../../oci/manifest.js';
import type { ContainerRecord } from '../../store/containers.js';
import { containerRecord } from '../../testing/container-record.js';
import type { PodRecord } from '../pods/records.js';
import { kubeContainer, processFields, type ContainerSource } from './generate-container.js';
import { kubeDeployment, kubePod, kubeService, kubeVolumeClaim, randomNodePort, type GenerateContext } from './generate-pod.js';
import { kubeYaml } from './generate-yaml.js';
import { hostVolumeName, isKubeLabel, kubeName } from './names.js';
import { cpuQuantity, memoryQuantity } from './quantity.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ctx: GenerateContext = { now: '2026-12-03T12:00:00Z' };

/** kubernetes-models' schema check (it throws on a violation) of an object typed by kubernetes-types: the two type enums differently. */
const validate = (Model: new (data: never) => { validate(): void }, obj: object) => new Model(obj as never).validate();

/** A container record as create writes it, with the defaults berth adds (PATH, container, HOSTNAME). */
function record(name: string, patch: Partial<ContainerRecord['config']> = {}, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  const id = `${name.replace(/[^a-f0-9]/g, '')}`.padEnd(64, 'a');
  return {
    ...containerRecord({
      id,
      name,
      created: '2026-12-03T11:00:00.000Z',
      config: { env: [DEFAULT_PATH, 'container=berth', `HOSTNAME=${id.slice(0, 12)}`], ...patch },
    }),
    ...extra,
  };
}

const busybox: ContainerConfig = { Cmd: ['sh'], Env: [DEFAULT_PATH] };
const source = (r: ContainerRecord, image: ContainerConfig | undefined = busybox, hostPaths: ContainerSource['hostPaths'] = {}): ContainerSource => ({
  record: r,
  image,
  hostPaths,
});

/** The two-container pod: an httpd with env, a named volume, binds, a tmpfs, a healthcheck, caps and a user; a sidecar. */
function webPod(): { pod: PodRecord; infra: ContainerRecord; app: ContainerRecord; side: ContainerRecord } {
  const pod: PodRecord = {
    id: 'f'.repeat(64),
    name: 'web',
    created: '',
    labels: { tier: 'front' },
    hostname: 'webhost',
    share: ['net', 'ipc', 'uts'],
    createCommand: [],
  };
  const membership = { id: pod.id, infraId: 'e'.repeat(64), joins: ['ipc', 'uts'] as ('ipc' | 'uts')[] };
  const infra = record(
    'web-infra',
    {
      entrypoint: ['/catatonit', '-P'],
      command: [],
      network: { mode: 'bridge', publish: [{ host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' }] },
      nameResolution: { extraHosts: [{ host: 'db', ip: '10.0.0.5' }], servers: ['9.9.9.9'], search: ['example.org'], options: ['ndots:2'] },
      pod: { id: pod.id, infra: true },
    },
    { id: 'e'.repeat(64) },
  );
  const app = record('app', {
    command: ['httpd', '-f', '-p', '80'],
    env: [DEFAULT_PATH, 'FOO=bar', 'container=berth', 'HOSTNAME=webhost'],
    hostname: 'webhost',
    network: { mode: 'container', container: infra.id },
    mountSpecs: [
      { type: 'volume', name: 'data', anonymous: false, destination: '/data', options: [], noCopy: false },
      { type: 'tmpfs', destination: '/scratch', options: [] },
      { type: 'bind', source: '/srv/www', destination: '/www', options: ['ro'] },
      { type: 'bind', source: '/etc/app.conf', destination: '/etc/app.conf', options: [] },
    ],
    healthcheck: { Test: ['CMD-SHELL', 'nc -z localhost 80'], Interval: 10e9, Timeout: 3e9, StartPeriod: 5e9, Retries: 2, OnFailure: 'none' },
    restartPolicy: { name: 'always', maxRetries: 0 },
    capAdd: ['CAP_NET_ADMIN'],
    capDrop: ['CAP_CHOWN'],
    user: '1000',
    memory: 64 * 1024 * 1024,
    cpus: 0.5,
    annotations: { 'example.com/owner': 'team' },
    pod: membership,
  });
  const side = record('side_car', {
    command: ['sleep', '1000'],
    hostname: 'webhost',
    network: { mode: 'container', container: infra.id },
    mountSpecs: [{ type: 'tmpfs', destination: '/cache', options: [] }],
    readOnly: true,
    privileged: true,
    pod: membership,
  });
  return { pod, infra, app, side };
}

describe('kube generate: records to Kubernetes objects', { timeout: 30_000 }, () => {
  test('a two-container pod is one Pod that validates, with the pod’s ports, hosts, DNS and the containers’ settings', () => {
    const { pod, infra, app, side } = webPod();
    const hostPaths = { '/srv/www': 'Directory', '/etc/app.conf': 'File' } as const;
    const out = kubePod({ pod, infra, containers: [source(app, busybox, hostPaths), source(side)] }, ctx);
    validate(Pod, out);
    assert.deepEqual(out.metadata, {
      name: 'web',
      creationTimestamp: ctx.now,
      labels: { tier: 'front', app: 'web' },
      annotations: { 'example.com/owner/app': 'team' },
    });
    const spec = out.spec!;
    assert.equal(spec.hostname, 'webhost');
    assert.equal(spec.restartPolicy, 'Always');
    assert.deepEqual(spec.hostAliases, [{ ip: '10.0.0.5', hostnames: ['db'] }]);
    assert.deepEqual(spec.dnsConfig, { nameservers: ['9.9.9.9'], searches: ['example.org'], options: [{ name: 'ndots', value: '2' }] });
    const [first, second] = spec.containers;
    assert.deepEqual(
      { name: first!.name, image: first!.image, command: first!.command, args: first!.args, env: first!.env, ports: first!.ports },
      {
        name: 'app',
        image: 'localhost/busybox:latest',
        command: ['httpd', '-f', '-p', '80'],
        args: undefined,
        env: [{ name: 'FOO', value: 'bar' }],
        ports: [{ containerPort: 80, hostPort: 8080 }],
      },
    );
    assert.deepEqual(first!.resources, { limits: { memory: '64Mi', cpu: '500m' } });
    assert.deepEqual(first!.securityContext, { capabilities: { add: ['CAP_NET_ADMIN'], drop: ['CAP_CHOWN'] }, runAsUser: 1000 });
    assert.deepEqual(first!.livenessProbe, {
      exec: { command: ['nc', '-z', 'localhost', '80'] },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 2,
      initialDelaySeconds: 5,
    });
    // podman's order: binds and tmpfs numbered first, named volumes after.
    assert.deepEqual(first!.volumeMounts, [
      { name: 'tmp-0', mountPath: '/scratch' },
      { name: 'srv-www-host-1', mountPath: '/www', readOnly: true },
      { name: 'etc-app-conf-host-2', mountPath: '/etc/app.conf' },
      { name: 'data-pvc', mountPath: '/data' },
    ]);
    assert.equal(second!.name, 'sidecar', 'underscores dropped, as podman does');
    assert.equal(second!.ports, undefined, "the pod's ports are written once");
    assert.deepEqual(second!.securityContext, { privileged: true, readOnlyRootFilesystem: true });
    assert.deepEqual(spec.volumes, [
      { name: 'tmp-0', emptyDir: { medium: 'Memory' } },
      { name: 'srv-www-host-1', hostPath: { path: '/srv/www', type: 'Directory' } },
      { name: 'etc-app-conf-host-2', hostPath: { path: '/etc/app.conf', type: 'File' } },
      { name: 'data-pvc', persistentVolumeClaim: { claimName: 'data' } },
      // the sidecar's own tmpfs was tmp-0 too: renamed for it, and its mount follows
      { name: 'sidecar-tmp-0', emptyDir: { medium: 'Memory' } },
    ]);
    assert.deepEqual(second!.volumeMounts, [{ name: 'sidecar-tmp-0', mountPath: '/cache' }]);
  });

  test('a lone container is a Pod named <container>-pod with its own ports, hosts and restart policy', () => {
    const c = record('lone', {
      command: ['sleep', '1'],
      hostname: 'hh',
      env: [DEFAULT_PATH, 'A=1', 'container=berth', 'HOSTNAME=hh', 'TERM=xterm'],
      tty: true,
      stdin: true,
      workdir: '/tmp',
      user: '1000:1000',
      labels: { k: 'v', 'bad key!': 'x', from: 'image' },
      network: {
        mode: 'bridge',
        publish: [
          { host_ip: '127.0.0.1', container_port: 91, host_port: 9191, range: 2, protocol: 'tcp' },
          { host_ip: '', container_port: 90, host_port: 0, range: 1, protocol: 'udp' },
        ],
      },
      nameResolution: { extraHosts: [{ host: 'foo', ip: '1.2.3.4' }], servers: [], search: [], options: [] },
      restartPolicy: { name: 'on-failure', maxRetries: 3 },
    });
    const warnings: string[] = [];
    const out = kubePod({ containers: [source(c, { ...busybox, Labels: { from: 'image' } })] }, { ...ctx, warn: (m) => warnings.push(m) });
    validate(Pod, out);
    assert.equal(out.metadata?.name, 'lone-pod');
    assert.deepEqual(out.metadata?.labels, { k: 'v', app: 'lone-pod' }, "the image's labels and what Kubernetes refuses are left out");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /bad key!/);
    const spec = out.spec!;
    assert.equal(spec.hostname, 'hh');
    assert.equal(spec.restartPolicy, 'OnFailure');
    assert.deepEqual(spec.hostAliases, [{ ip: '1.2.3.4', hostnames: ['foo'] }]);
    const ctr = spec.containers[0]!;
    assert.deepEqual(ctr.env, [{ name: 'A', value: '1' }], 'PATH, container, HOSTNAME and TERM are the runtime’s');
    assert.deepEqual(ctr.ports, [
      { containerPort: 91, hostPort: 9191, hostIP: '127.0.0.1' },
      { containerPort: 92, hostPort: 9192, hostIP: '127.0.0.1' },
      { containerPort: 90, protocol: 'UDP' },
    ]);
    assert.deepEqual(ctr.securityContext, { runAsUser: 1000, runAsGroup: 1000 });
    assert.equal(ctr.workingDir, '/tmp');
    assert.equal(ctr.tty, true);
    assert.equal(ctr.stdin, true);
  });

  test('a container with nothing of its own: no command, env, securityContext or hostname; no restart is Never', () => {
    const c = record('plain');
    const out = kubePod({ containers: [source(c)] }, ctx);
    validate(Pod, out);
    assert.deepEqual(out.spec?.containers, [{ name: 'plain', image: 'localhost/busybox:latest' }]);
    assert.equal(out.spec?.hostname, undefined, 'the hostname berth made from the ID is not one to keep');
    assert.equal(out.spec?.restartPolicy, 'Never');
    assert.equal(out.metadata?.annotations, undefined);
  });

  test('command and args: entrypoint → command, cmd → args, what the image gives left out', () => {
    const image: ContainerConfig = { Entrypoint: ['/entry.sh'], Cmd: ['serve'] };
    const split = (patch: Partial<ContainerRecord['config']>, img: ContainerConfig | undefined) => processFields(record('c', patch), img);
    assert.deepEqual(split({ entrypoint: ['/entry.sh'], command: ['serve'] }, image), {});
    assert.deepEqual(split({ entrypoint: ['/entry.sh'], command: ['debug', '-v'] }, image), { args: ['debug', '-v'] });
    assert.deepEqual(split({ entrypoint: ['/other'], command: ['x'] }, image), { command: ['/other'], args: ['x'] });
    assert.deepEqual(split({ entrypoint: ['/other'], command: [] }, image), { command: ['/other'] });
    // --entrypoint given the image's own clears the cmd: the command must say so, or the image's cmd would come back
    assert.deepEqual(split({ entrypoint: ['/entry.sh'], command: [] }, image), { command: ['/entry.sh'] });
    // no entrypoint (busybox): the cmd is the command, as podman writes it
    assert.deepEqual(split({ command: ['httpd', '-f'] }, busybox), { command: ['httpd', '-f'] });
    assert.deepEqual(split({ command: ['sh'] }, busybox), {});
    // the image's entrypoint cleared (--entrypoint ''): the cmd is the command
    assert.deepEqual(split({ entrypoint: [], command: ['ls'] }, image), { command: ['ls'] });
    // no image config to compare with: everything is written
    assert.deepEqual(split({ entrypoint: ['/entry.sh'], command: ['serve'] }, undefined), { command: ['/entry.sh'], args: ['serve'] });
  });

  test('env the image sets is left out; env that differs from it stays', () => {
    const c = record('e', { env: [DEFAULT_PATH, 'LANG=C', 'MODE=dev', 'container=berth', 'HOSTNAME=x'] });
    const { container } = kubeContainer(source(c, { Env: [DEFAULT_PATH, 'LANG=C', 'MODE=prod'] }));
    assert.deepEqual(container.env, [
      { name: 'MODE', value: 'dev' },
      { name: 'HOSTNAME', value: 'x' },
    ]);
  });

  test('healthchecks: CMD words as they are, a shell command of plain words as its words, else through sh -c, no probe for NONE; capabilities: ALL dropped and the defaults named', () => {
    const cmd = kubeContainer(
      source(record('h', { healthcheck: { Test: ['CMD', 'true'], Interval: 0, Timeout: 1.5e9, StartPeriod: 0, Retries: 3, OnFailure: 'none' } })),
    ).container;
    assert.deepEqual(cmd.livenessProbe, { exec: { command: ['true'] }, timeoutSeconds: 2, failureThreshold: 3 });
    const shell = (cmd: string) =>
      kubeContainer(
        source(record('sh', { healthcheck: { Test: ['CMD-SHELL', cmd], Interval: 30e9, Timeout: 30e9, StartPeriod: 0, Retries: 3, OnFailure: 'none' } })),
      ).container.livenessProbe?.exec?.command;
    assert.deepEqual(shell('  wget -q -O- http://localhost:8080/health '), ['wget', '-q', '-O-', 'http://localhost:8080/health']);
    assert.deepEqual(shell('test -f /ready && echo ok'), ['/bin/sh', '-c', 'test -f /ready && echo ok']);
    assert.deepEqual(shell('curl "$URL"'), ['/bin/sh', '-c', 'curl "$URL"']);
    assert.deepEqual(shell('DEBUG=1 check'), ['/bin/sh', '-c', 'DEBUG=1 check']);
    assert.deepEqual(shell('exit 0'), ['/bin/sh', '-c', 'exit 0']);
    const none = kubeContainer(
      source(record('n', { healthcheck: { Test: ['NONE'], Interval: 0, Timeout: 0, StartPeriod: 0, Retries: 0, OnFailure: 'none' } })),
    );
    assert.equal(none.container.livenessProbe, undefined);
    const dropped = kubeContainer(source(record('d', { capDrop: ['ALL'], capAdd: ['CAP_NET_BIND_SERVICE'] }))).container;
    assert.equal(dropped.securityContext?.capabilities?.add, undefined);
    assert.ok(dropped.securityContext?.capabilities?.drop?.includes('CAP_CHOWN'));
    assert.ok(!dropped.securityContext?.capabilities?.drop?.includes('CAP_NET_BIND_SERVICE'));
    const nnp = kubeContainer(source(record('s', { securityOpt: ['no-new-privileges'] }))).container;
    assert.deepEqual(nnp.securityContext, { allowPrivilegeEscalation: false });
  });

  test("the image's VOLUMEs are left out; a user's anonymous volume is an emptyDir; a read-only named volume a read-only claim", () => {
    const c = record('v', {
      mountSpecs: [
        { type: 'volume', name: 'a'.repeat(64), anonymous: true, destination: '/var/lib/db', options: [], noCopy: false },
        { type: 'volume', name: 'b'.repeat(64), anonymous: true, destination: '/scratch', options: [], noCopy: false },
        { type: 'volume', name: 'My_Data', anonymous: false, destination: '/data', options: ['ro'], noCopy: false },
      ],
    });
    const out = kubePod({ containers: [source(c, { ...busybox, Volumes: { '/var/lib/db': {} } })] }, ctx);
    validate(Pod, out);
    assert.deepEqual(out.spec?.volumes, [
      { name: 'anon-0', emptyDir: {} },
      { name: 'mydata-pvc', persistentVolumeClaim: { claimName: 'My_Data', readOnly: true } },
    ]);
    assert.deepEqual(out.spec?.containers[0]?.volumeMounts, [
      { name: 'anon-0', mountPath: '/scratch' },
      { name: 'mydata-pvc', mountPath: '/data', readOnly: true },
    ]);
  });

  test('--service: a NodePort Service selecting the Pod, a port per container port, node ports in range and distinct', () => {
    const { pod, infra, app, side } = webPod();
    const p = kubePod({ pod, infra, containers: [source(app), source(side)] }, ctx);
    const udp = kubePod(
      {
        containers: [
          source(
            record('dns', {
              network: {
                mode: 'bridge',
                publish: [
                  { host_ip: '', container_port: 53, host_port: 5353, range: 1, protocol: 'tcp' },
                  { host_ip: '', container_port: 53, host_port: 5353, range: 1, protocol: 'udp' },
                ],
              },
            }),
          ),
        ],
      },
      ctx,
    );
    const svc = kubeService(p, randomNodePort);
    validate(Service, svc);
    assert.deepEqual(svc.metadata, { name: 'web', creationTimestamp: ctx.now, labels: { tier: 'front', app: 'web' } });
    assert.deepEqual(svc.spec?.selector, { app: 'web' });
    assert.equal(svc.spec?.type, 'NodePort');
    const [port] = svc.spec!.ports!;
    assert.ok(port!.nodePort! >= 30000 && port!.nodePort! <= 32767);
    assert.deepEqual({ ...port, nodePort: 0 }, { name: '80', port: 80, targetPort: 80, nodePort: 0 });
    const both = kubeService(udp, randomNodePort);
    validate(Service, both);
    const ports = both.spec!.ports!;
    assert.deepEqual(
      ports.map((x) => [x.name, x.protocol]),
      [
        ['53', undefined],
        ['53-udp', 'UDP'],
      ],
    );
    assert.notEqual(ports[0]!.nodePort, ports[1]!.nodePort);
  });

  test('--type deployment: the Pod as its template, replicas only above 1; OnFailure refused, Never left to the Deployment', () => {
    const { pod, infra, app, side } = webPod();
    const p = kubePod({ pod, infra, containers: [source(app), source(side)] }, ctx);
    const one = kubeDeployment(p, 1);
    validate(Deployment, one);
    assert.equal(one.metadata?.name, 'web-deployment');
    assert.equal(one.spec?.replicas, undefined);
    assert.deepEqual(one.spec?.selector, { matchLabels: { app: 'web' } });
    assert.deepEqual(one.spec?.template.metadata, p.metadata);
    assert.deepEqual(one.spec?.template.spec?.containers, p.spec?.containers);
    const three = kubeDeployment(p, 3);
    validate(Deployment, three);
    assert.equal(three.spec?.replicas, 3);
    const text = kubeYaml([three]);
    assert.doesNotMatch(text, /[&*]a\d/, 'the labels it shares with its template are written out, not aliased');
    assert.deepEqual(parseAllDocuments(text)[0]?.toJS(), three);
    const never = kubeDeployment(kubePod({ containers: [source(record('n'))] }, ctx), 1);
    validate(Deployment, never);
    assert.equal(never.spec?.template.spec?.restartPolicy, undefined);
    const onFailure = kubePod({ containers: [source(record('f', { restartPolicy: { name: 'on-failure', maxRetries: 0 } }))] }, ctx);
    assert.throws(() => kubeDeployment(onFailure, 1), /k8s Deployments can only have restartPolicy set to Always/);
  });

  test('a volume is a PersistentVolumeClaim with podman’s driver and option annotations', () => {
    const claim = kubeVolumeClaim(
      {
        name: 'data',
        created: '',
        labels: { a: 'b' },
        options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m', other: 'x' },
        anonymous: false,
        needsCopyUp: false,
      },
      ctx,
    );
    validate(PersistentVolumeClaim, claim);
    assert.deepEqual(claim.metadata, {
      name: 'data',
      creationTimestamp: ctx.now,
      labels: { a: 'b' },
      annotations: {
        'volume.podman.io/driver': 'local',
        'volume.podman.io/type': 'tmpfs',
        'volume.podman.io/device': 'tmpfs',
        'volume.podman.io/mount-options': 'size=1m',
      },
    });
    assert.deepEqual(claim.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
  });
});

describe('kube generate: YAML, names and quantities', { timeout: 30_000 }, () => {
  test("podman's header, sorted keys, `---` between documents, strings that would read as other things quoted", () => {
    const { pod, infra, app, side } = webPod();
    const p = kubePod({ pod, infra, containers: [source(app), source(side)] }, ctx);
    const svc = kubeService(p, () => 30001);
    const text = kubeYaml([svc, p]);
    assert.ok(text.startsWith('# Save the output of this file and use kubectl create -f to import\n# it into Kubernetes.\n#\n# Created with berth-'));
    assert.match(text, /\napiVersion: v1\nkind: Service\nmetadata:\n {2}creationTimestamp: "2026-12-03T12:00:00Z"\n/);
    assert.match(text, /\n {2}type: NodePort\n---\napiVersion: v1\nkind: Pod\n/);
    assert.match(text, /\n {2}- name: "80"\n/, 'a number-like string is quoted');
    assert.match(text, /\n {2}containers:\n {2}- command:\n {4}- httpd\n/, 'list items at their key’s indent');
    const docs = parseAllDocuments(text);
    assert.equal(docs.length, 2);
    assert.deepEqual(
      docs.map((d) => d.toJS()),
      [svc, p],
      'the YAML reads back as the objects',
    );
  });

  test('names: labels Kubernetes takes, host paths as podman names them', () => {
    assert.equal(kubeName('my_app'), 'myapp');
    assert.equal(kubeName('Web.1'), 'web-1');
    assert.equal(kubeName('x'.repeat(80)).length, 63);
    assert.equal(hostVolumeName('/', 0), 'root-host-0');
    assert.equal(hostVolumeName('/mnt/data/', 3), 'mnt-data-host-3');
    assert.ok(hostVolumeName(`/${'d'.repeat(100)}`, 12).endsWith('-host-12'));
    assert.equal(hostVolumeName(`/${'d'.repeat(100)}`, 12).length, 63);
    assert.ok(isKubeLabel('app.kubernetes.io/name', 'web'));
    assert.ok(isKubeLabel('k', ''));
    assert.ok(!isKubeLabel('k', 'has space'));
    assert.ok(!isKubeLabel('Bad_Prefix/k', 'v'));
    assert.ok(!isKubeLabel('k', 'v'.repeat(64)));
  });

  test('quantities: memory with the largest binary suffix that divides it, CPUs in thousandths', () => {
    assert.equal(memoryQuantity(64 * 1024 * 1024), '64Mi');
    assert.equal(memoryQuantity(1536 * 1024), '1536Ki');
    assert.equal(memoryQuantity(2 * 1024 ** 3), '2Gi');
    assert.equal(memoryQuantity(100_000_000), '100000000');
    assert.equal(cpuQuantity(0.5), '500m');
    assert.equal(cpuQuantity(2), '2');
    assert.equal(cpuQuantity(1.5), '1500m');
    assert.equal(cpuQuantity(0.0001), undefined);
  });
});
