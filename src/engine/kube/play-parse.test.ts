import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Pod } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { isBerthError } from '../../util/errors.js';
import { planKube } from './play-parse.js';

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  restartPolicy: Never
  containers:
  - name: httpd
    image: busybox
    command: [httpd, -f]
    ports:
    - containerPort: 80
      hostPort: 8080
    volumeMounts:
    - {name: site, mountPath: /www, readOnly: true}
  volumes:
  - name: site
    configMap: {name: cfg}
`;

function plan(text: string, extra: string[] = []) {
  const warnings: string[] = [];
  const p = planKube(
    { text },
    extra.map((t, i) => ({ text: t, label: `cm${i}.yaml` })),
    (m) => warnings.push(m),
  );
  return { plan: p, warnings };
}

/** The one error planKube throws: a BerthError whose message is checked. */
function error(text: string, pattern: RegExp): void {
  assert.throws(
    () => plan(text),
    (e: unknown) => {
      assert.ok(isBerthError(e), String(e));
      assert.equal(e.exitCode, 125);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('kube play: parsing and checking a kube file', { timeout: 10_000 }, () => {
  test('the test Pod is valid Kubernetes (the schema agrees with what berth accepts)', () => {
    new Pod(parse(POD) as never).validate();
    const { plan: p, warnings } = plan(POD);
    assert.deepEqual(warnings, []);
    assert.equal(p.pods.length, 1);
    assert.equal(p.pods[0]!.name, 'web');
    assert.equal(p.pods[0]!.where, 'document 1 (Pod "web")');
    assert.deepEqual(p.pods[0]!.labels, { app: 'web' });
  });

  test('several documents: ConfigMaps, Secrets (data base64, stringData over it), claims with podman annotations', () => {
    const { plan: p } = plan(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {A: "1", index.html: hi}
binaryData: {bin: AAE=}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {PASSWORD: czNjcjN0, TOKEN: b2xk}
stringData: {TOKEN: new}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  annotations: {volume.podman.io/driver: local, volume.podman.io/uid: "1000"}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
${POD}---
`);
    assert.equal(p.configMaps.get('cfg')!.A!.toString(), '1');
    assert.deepEqual([...p.configMaps.get('cfg')!.bin!], [0, 1]);
    assert.equal(p.secrets[0]!.data.PASSWORD!.toString(), 's3cr3t');
    assert.equal(p.secrets[0]!.data.TOKEN!.toString(), 'new');
    assert.deepEqual(p.claims, [{ name: 'data', labels: {}, driver: 'local', options: { uid: '1000' } }]);
    assert.equal(p.pods[0]!.where, 'document 4 (Pod "web")');
  });

  test('a Deployment plays every replica as podman 4.3 does (<name>-pod-<i>); a DaemonSet one pod', () => {
    const template = `  template:
    metadata: {labels: {app: d}}
    spec:
      containers: [{name: c, image: busybox}]`;
    const { plan: p } = plan(`apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec:
  replicas: 3
  selector: {matchLabels: {app: d}}
${template}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: d}}
${template}
`);
    assert.deepEqual(
      p.pods.map((x) => x.name),
      ['dep-pod-0', 'dep-pod-1', 'dep-pod-2', 'ds-pod'],
    );
    assert.equal(p.pods[0]!.specPath, 'spec.template.spec');
    assert.deepEqual(p.pods[0]!.labels, { app: 'd' });
  });

  test('unknown kinds and unknown fields: one warning each, naming the document and the field', () => {
    const { plan: p, warnings } = plan(`apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {ports: [{port: 80}]}
---
${POD.replace('    image: busybox\n', '    image: busybox\n    readinessProbe: {exec: {command: [true]}}\n    colour: blue\n')}`);
    assert.equal(p.pods.length, 1);
    assert.deepEqual(warnings, [
      'document 1 (Service "svc"): kind Service is not supported: ignored',
      'document 2 (Pod "web"): field spec.containers[0].readinessProbe ignored: berth does not support it',
      'document 2 (Pod "web"): field spec.containers[0].colour ignored: berth does not support it',
    ]);
  });

  test('fields that change nothing here (status, creationTimestamp, podman generate’s extras) pass without a warning', () => {
    const { warnings } = plan(`# Created with podman-4.3.1
apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: "2026-12-03T23:52:01Z"
  labels: {app: gen}
  annotations: {io.podman.annotations.init/g1: "FALSE"}
  name: gen
spec:
  automountServiceAccountToken: false
  enableServiceLinks: false
  hostname: gen
  restartPolicy: Never
  containers:
  - name: g1
    image: localhost/busybox:latest
    command: [httpd, -f, -p, "80"]
    env: [{name: A, value: b}]
    ports: [{containerPort: 80, hostPort: 18090}]
    resources: {limits: {memory: 64Mi}}
    securityContext: {capabilities: {add: [CAP_NET_ADMIN]}}
    volumeMounts: [{mountPath: /data, name: gv-pvc}]
    workingDir: /tmp
  volumes:
  - name: gv-pvc
    persistentVolumeClaim: {claimName: gv}
status: {}
`);
    assert.deepEqual(warnings, []);
  });

  test('invalid YAML: the document and its line', () => {
    error('apiVersion: v1\nkind: Pod\n---\na: [1\n', /^kube play: document 2: invalid YAML: .* at line \d+, column \d+$/);
    error('- a\n- b\n', /^kube play: document 1: expected a Kubernetes object/);
  });

  test('a missing required field: the document and the field path', () => {
    error(POD.replace('    image: busybox\n', ''), /^kube play: document 1 \(Pod "web"\): spec\.containers\[0\]\.image: required field missing$/);
    error(POD.replace('  name: web\n', ''), /^kube play: document 1 \(Pod\): metadata\.name: required field missing$/);
    error(POD.replace('kind: Pod\n', ''), /^kube play: document 1: kind: required field missing$/);
    error(POD.replace('apiVersion: v1\n', ''), /: apiVersion: required field missing$/);
    error('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n', /\(Pod "p"\): spec\.containers: required field missing$/);
    error('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n', /\(Deployment "d"\): spec\.template: required field missing$/);
  });

  test('a field of the wrong type: the path and what was expected', () => {
    error(POD.replace('hostPort: 8080', 'hostPort: "8080"'), /spec\.containers\[0\]\.ports\[0\]\.hostPort: expected an integer, got a string$/);
    error(POD.replace('command: [httpd, -f]', 'command: httpd -f'), /spec\.containers\[0\]\.command: expected a list, got a string$/);
    error(POD.replace('readOnly: true', 'readOnly: "yes"'), /spec\.containers\[0\]\.volumeMounts\[0\]\.readOnly: expected a boolean, got a string$/);
    error(POD.replace('labels: {app: web}', 'labels: [app]'), /metadata\.labels: expected a map, got a list$/);
    error(
      POD.replace('restartPolicy: Never', 'restartPolicy: Sometimes'),
      /spec\.restartPolicy: unsupported value "Sometimes": one of Always, OnFailure, Never$/,
    );
    error(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {A: "not base64!"}\n`, /\(Secret "s"\): data\.A: illegal base64 data$/);
    // A key is a file's name in a volume: never a path.
    error(
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {"../../etc/passwd": x}\n`,
      /\(ConfigMap "c"\): data\.\.\.\/\.\.\/etc\/passwd: a valid key must consist of/,
    );
    error(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {"..": x}\n`, /\(Secret "s"\): stringData\.\.\.: a valid key/);
  });

  test('references inside a pod: a mount of no volume, a volume of no source, two containers of one name', () => {
    error(
      POD.replace('name: site, mountPath', 'name: other, mountPath'),
      /spec\.containers\[0\]\.volumeMounts\[0\]\.name: no volume named "other" in spec\.volumes$/,
    );
    error(POD.replace('    configMap: {name: cfg}\n', '    nfs: {server: x, path: /}\n'), /spec\.volumes\[0\]: volume "site" has no source berth supports/);
    error(
      POD.replace('    configMap: {name: cfg}\n', '    configMap: {name: cfg}\n    emptyDir: {}\n'),
      /spec\.volumes\[0\]: volume "site" has more than one source: emptyDir, configMap$/,
    );
    error(POD.replace('mountPath: /www', 'mountPath: www'), /volumeMounts\[0\]\.mountPath: must be an absolute path: www$/);
    error(POD.replace('hostPort: 8080', 'hostPort: 70000'), /ports\[0\]\.hostPort: port out of range: 70000$/);
    error(
      POD.replace('  volumes:\n', '  - {name: httpd, image: busybox}\n  volumes:\n'),
      /containers\[1\]\.name: a container named "httpd" is already in the pod$/,
    );
    error(`${POD}---\n${POD}`, /^kube play: document 2 \(Pod "web"\): metadata\.name: a pod named "web" is already in the file$/);
  });

  test('--configmap files give ConfigMaps only; other kinds there are warned about', () => {
    const { plan: p, warnings } = plan(POD, [`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {A: b}\n---\n${POD}`]);
    assert.equal(p.configMaps.get('cfg')!.A!.toString(), 'b');
    assert.equal(p.pods.length, 1);
    assert.deepEqual(warnings, ['cm0.yaml: document 2 (Pod "web"): kind Pod is not supported in a --configmap file: ignored']);
  });
});
