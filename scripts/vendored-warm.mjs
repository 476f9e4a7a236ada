// Runs a vendored dependency the way berth's commands use it, then writes its V8 code cache
// (scripts/vendored.mjs starts this in a Node of its own): the cache then holds the functions
// that ran. Arguments: the built src/cli/vendored.js, the wrapped dependency file, its name.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [loader, file, name] = process.argv.slice(2);
const { runVendored } = await import(pathToFileURL(loader).href);

/** What the commands do with each dependency. */
const WARM_UPS = {
  // kube play's parse (YAML 1.1, with errors as it reports them) and its objects; policy.json's
  // YAML siblings, registries.d and sync's files through parse(); kube generate's output.
  yaml(yaml) {
    const kube = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  restartPolicy: Never
  containers:
  - name: httpd
    image: localhost/busybox:latest
    command: [sh, -c, 'exec httpd -f -p 8080']
    ports: [{containerPort: 8080, hostPort: 8080}]
    env:
    - {name: MODE, value: "0600"}
    - name: FROM
      valueFrom: {configMapKeyRef: {name: cfg, key: k}}
    volumeMounts: [{name: data, mountPath: /data, readOnly: true}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  k: |
    line one
    line two
  mode: 0644
---
`;
    for (const doc of yaml.parseAllDocuments(kube, { version: '1.1', prettyErrors: true })) doc.toJS({ maxAliasCount: 100 });
    for (const doc of yaml.parseAllDocuments('a: [1, 2\n', { version: '1.1', prettyErrors: true })) void doc.errors[0]?.message;
    yaml.parse(
      'docker:\n  registry.example:\n    lookaside: https://sigstore.example/sigs\n    use-sigstore-attachments: true\ndefault-docker:\n  lookaside-staging: file:///var/lib/sigs\n',
    );
    const options = { version: '1.1', sortMapEntries: true, indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false };
    const pod = yaml.parse(kube.split('---')[0]);
    new yaml.Document(pod, options).toString(options);
  },
};

const loaded = runVendored(file);
WARM_UPS[name](loaded.exports);
writeFileSync(`${file}.cache`, loaded.script.createCachedData());
