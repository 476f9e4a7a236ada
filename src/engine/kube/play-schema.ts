import { BerthError } from '../../util/errors.js';

/**
 * The subset of the Kubernetes object schema that `kube play` reads, checked by hand: kubernetes-models'
 * validators carry the whole OpenAPI document and ajv, too heavy for a CLI start, and berth needs only
 * the fields it acts on to be of the right type. A field of the wrong type or a missing required one
 * is an error naming the document and the field path; a field berth does not know or does not act on
 * is one warning (a few that change nothing, such as `status` or `imagePullSecrets`' absence, pass in silence).
 */

export type Shape =
  | 'string'
  | 'int'
  | 'bool'
  /** A Kubernetes quantity or int-or-string: a number or a string. */
  | 'scalar'
  /** Accepted as it is, without a look inside (fields that change nothing here). */
  | 'any'
  | { object: Record<string, Field> }
  | { list: Shape }
  | { map: Shape };

export interface Field {
  shape: Shape;
  required?: boolean;
  /** Allowed values of a string. */
  oneOf?: readonly string[];
}

const f = (shape: Shape, extra: Omit<Field, 'shape'> = {}): Field => ({ shape, ...extra });
const req = (shape: Shape): Field => ({ shape, required: true });
const obj = (fields: Record<string, Field>): Shape => ({ object: fields });
const list = (shape: Shape): Shape => ({ list: shape });
const map = (shape: Shape): Shape => ({ map: shape });
const quiet = f('any');

export const METADATA = obj({
  name: f('string'),
  labels: f(map('string')),
  annotations: f(map('string')),
  namespace: quiet,
  creationTimestamp: quiet,
  uid: quiet,
  resourceVersion: quiet,
  generation: quiet,
  managedFields: quiet,
  ownerReferences: quiet,
  finalizers: quiet,
});

const KEY_REF = obj({ name: req('string'), key: req('string'), optional: f('bool') });
const SOURCE_REF = obj({ name: req('string'), optional: f('bool') });
const KEY_TO_PATH = obj({ key: req('string'), path: req('string'), mode: f('int') });
const EXEC = obj({ command: req(list('string')) });

const CONTAINER = obj({
  name: req('string'),
  image: req('string'),
  command: f(list('string')),
  args: f(list('string')),
  workingDir: f('string'),
  env: f(
    list(
      obj({
        name: req('string'),
        value: f('string'),
        valueFrom: f(obj({ configMapKeyRef: f(KEY_REF), secretKeyRef: f(KEY_REF) })),
      }),
    ),
  ),
  envFrom: f(list(obj({ configMapRef: f(SOURCE_REF), secretRef: f(SOURCE_REF), prefix: f('string') }))),
  ports: f(
    list(
      obj({
        containerPort: req('int'),
        hostPort: f('int'),
        hostIP: f('string'),
        protocol: f('string', { oneOf: ['TCP', 'UDP', 'SCTP'] }),
        name: quiet,
      }),
    ),
  ),
  resources: f(obj({ limits: f(map('scalar')), requests: quiet, claims: quiet })),
  securityContext: f(
    obj({
      capabilities: f(obj({ add: f(list('string')), drop: f(list('string')) })),
      runAsUser: f('int'),
      runAsGroup: f('int'),
      privileged: f('bool'),
      readOnlyRootFilesystem: f('bool'),
      allowPrivilegeEscalation: quiet,
      runAsNonRoot: quiet,
      seLinuxOptions: quiet,
    }),
  ),
  livenessProbe: f(
    obj({
      exec: f(EXEC),
      initialDelaySeconds: f('int'),
      periodSeconds: f('int'),
      timeoutSeconds: f('int'),
      failureThreshold: f('int'),
      successThreshold: quiet,
    }),
  ),
  volumeMounts: f(list(obj({ name: req('string'), mountPath: req('string'), readOnly: f('bool'), subPath: f('string') }))),
  imagePullPolicy: f('string', { oneOf: ['Always', 'IfNotPresent', 'Never'] }),
  stdin: f('bool'),
  tty: f('bool'),
  terminationMessagePath: quiet,
  terminationMessagePolicy: quiet,
});

const VOLUME = obj({
  name: req('string'),
  hostPath: f(
    obj({
      path: req('string'),
      type: f('string', { oneOf: ['', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket', 'CharDevice', 'BlockDevice'] }),
    }),
  ),
  persistentVolumeClaim: f(obj({ claimName: req('string'), readOnly: f('bool') })),
  emptyDir: f(obj({ medium: f('string', { oneOf: ['', 'Memory'] }), sizeLimit: f('scalar') })),
  configMap: f(obj({ name: req('string'), items: f(list(KEY_TO_PATH)), defaultMode: f('int'), optional: f('bool') })),
  secret: f(obj({ secretName: req('string'), items: f(list(KEY_TO_PATH)), defaultMode: f('int'), optional: f('bool') })),
});

export const POD_SPEC = obj({
  containers: req(list(CONTAINER)),
  volumes: f(list(VOLUME)),
  restartPolicy: f('string', { oneOf: ['Always', 'OnFailure', 'Never'] }),
  hostname: f('string'),
  hostNetwork: f('bool'),
  hostAliases: f(list(obj({ ip: req('string'), hostnames: f(list('string')) }))),
  dnsConfig: f(
    obj({
      nameservers: f(list('string')),
      searches: f(list('string')),
      options: f(list(obj({ name: req('string'), value: f('string') }))),
    }),
  ),
  terminationGracePeriodSeconds: f('int'),
  dnsPolicy: quiet,
  enableServiceLinks: quiet,
  automountServiceAccountToken: quiet,
  schedulerName: quiet,
  serviceAccount: quiet,
  serviceAccountName: quiet,
  nodeName: quiet,
  nodeSelector: quiet,
  priority: quiet,
  tolerations: quiet,
});

const TEMPLATE = obj({ metadata: f(METADATA), spec: req(POD_SPEC) });

/** Each kind berth plays, by its top-level fields (apiVersion, kind, metadata and status are everyone's). */
export const KINDS: Record<string, Record<string, Field>> = {
  Pod: { metadata: req(METADATA), spec: req(POD_SPEC) },
  Deployment: {
    metadata: req(METADATA),
    spec: req(
      obj({
        replicas: f('int'),
        template: req(TEMPLATE),
        selector: quiet,
        strategy: quiet,
        revisionHistoryLimit: quiet,
        progressDeadlineSeconds: quiet,
        minReadySeconds: quiet,
      }),
    ),
  },
  DaemonSet: {
    metadata: req(METADATA),
    spec: req(obj({ template: req(TEMPLATE), selector: quiet, updateStrategy: quiet, revisionHistoryLimit: quiet, minReadySeconds: quiet })),
  },
  ConfigMap: { metadata: req(METADATA), data: f(map('string')), binaryData: f(map('string')), immutable: quiet },
  Secret: { metadata: req(METADATA), data: f(map('string')), stringData: f(map('string')), type: quiet, immutable: quiet },
  PersistentVolumeClaim: {
    metadata: req(METADATA),
    spec: f(obj({ accessModes: quiet, resources: quiet, storageClassName: quiet, volumeMode: quiet, selector: quiet, volumeName: quiet })),
  },
};

/** Where a document sits in the file, for messages: `document 2 (Pod "web")`. */
export function docLabel(index: number, kind?: string, name?: string): string {
  return `document ${index + 1}${kind ? ` (${kind}${name ? ` "${name}"` : ''})` : ''}`;
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : `a ${typeof v}`);

/**
 * Checks `value` against `fields` (a document's top level), throwing one BerthError at the first
 * wrong type or missing required field, and calling `warn` for each field it does not know.
 */
export function checkFields(value: Record<string, unknown>, fields: Record<string, Field>, where: string, warn: (message: string) => void): void {
  walkObject(value, fields, '', where, warn);
}

function walkObject(value: Record<string, unknown>, fields: Record<string, Field>, path: string, where: string, warn: (m: string) => void): void {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  for (const [key, field] of Object.entries(fields))
    if (field.required && (value[key] === undefined || value[key] === null)) throw fieldError(where, at(key), 'required field missing');
  for (const [key, v] of Object.entries(value)) {
    const field = fields[key];
    if (!field) {
      warn(`${where}: field ${at(key)} ignored: berth does not support it`);
      continue;
    }
    // null is YAML's empty value (`hostPort:`): the field is as good as absent.
    if (v === null) continue;
    walk(v, field, at(key), where, warn);
  }
}

function walk(v: unknown, field: Field, path: string, where: string, warn: (m: string) => void): void {
  const shape = field.shape;
  const wrong = (expected: string) => fieldError(where, path, `expected ${expected}, got ${typeName(v)}`);
  if (shape === 'any') return;
  if (shape === 'string') {
    if (typeof v !== 'string') throw wrong('a string');
    if (field.oneOf && !field.oneOf.includes(v)) throw fieldError(where, path, `unsupported value "${v}": one of ${field.oneOf.filter((s) => s).join(', ')}`);
    return;
  }
  if (shape === 'int') {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw wrong('an integer');
    return;
  }
  if (shape === 'bool') {
    if (typeof v !== 'boolean') throw wrong('a boolean');
    return;
  }
  if (shape === 'scalar') {
    if (typeof v !== 'number' && typeof v !== 'string') throw wrong('a number or a string');
    return;
  }
  if ('list' in shape) {
    if (!Array.isArray(v)) throw wrong('a list');
    v.forEach((item, i) => {
      if (item === null) throw fieldError(where, `${path}[${i}]`, 'empty list item');
      walk(item, { shape: shape.list }, `${path}[${i}]`, where, warn);
    });
    return;
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw wrong('a map');
  if ('map' in shape) {
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) if (item !== null) walk(item, { shape: shape.map }, `${path}.${k}`, where, warn);
    return;
  }
  walkObject(v as Record<string, unknown>, shape.object, path, where, warn);
}

export function fieldError(where: string, path: string, message: string): BerthError {
  return new BerthError('USAGE', `kube play: ${where}: ${path}: ${message}`);
}
