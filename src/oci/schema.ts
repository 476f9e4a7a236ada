// Validation against the OCI image-spec v1.1 JSON schemas (image-manifest-schema.json, image-index-schema.json,
// config-schema.json, content-descriptor.json, image-layout-schema.json), written out as plain code: berth ships
// no schema files and compiles nothing, so importing this module is free. The checks that upstream's validator
// adds in Go are included too: registered digest algorithms need hex of the right length, `data` is padded
// base64, config `Env` entries are NAME=value, and every JSON value has the type the Go structs give it (so a
// `platform` or an annotation map is checked wherever it appears). Sizes are integers in 0…2^53 (the spec's main
// branch forbids negative sizes; beyond 2^53 a JS number is no longer exact).
import { MediaType } from './mediatypes.js';
import {
  Checker,
  decodeJSON,
  digestProblem,
  isBase64,
  isDateTime,
  isEnvEntry,
  isObject,
  isUri,
  jsonType,
  MEDIA_TYPE_RE,
  ptr,
  short,
  type SchemaIssue,
} from './_check.js';

export { formatIssues, type SchemaIssue } from './_check.js';

export type SchemaKind = 'manifest' | 'index' | 'config' | 'descriptor' | 'layout';

export interface ValidateOptions {
  /**
   * Accept a manifest with `"layers": []`. The v1.1 schema requires at least one layer, but Docker writes
   * empty lists for `FROM scratch` images without files and containers/image reads them, so the parser allows it.
   */
  allowEmptyLayers?: boolean;
}

/** Problems of `doc` (already parsed JSON) as a document of `kind`; an empty list means valid. */
export function validate(kind: SchemaKind, doc: unknown, opts: ValidateOptions = {}): SchemaIssue[] {
  const c = new Checker();
  CHECKS[kind](c, '', doc, opts);
  return c.issues;
}

/** Like validate(), from the document's bytes or text; text that is not JSON is one issue. */
export function validateJSON(kind: SchemaKind, data: string | Uint8Array, opts: ValidateOptions = {}): SchemaIssue[] {
  const decoded = decodeJSON(data);
  if ('error' in decoded) return [{ path: '', message: decoded.error }];
  return validate(kind, decoded.value, opts);
}

/** The schema for a media type, as upstream's validators are keyed (Docker schema 2 types map to their OCI twins). */
export function schemaKindFor(mediaType: string): SchemaKind | undefined {
  switch (mediaType) {
    case MediaType.OciManifest:
    case MediaType.DockerManifest:
      return 'manifest';
    case MediaType.OciIndex:
    case MediaType.DockerManifestList:
      return 'index';
    case MediaType.OciConfig:
    case MediaType.DockerConfig:
      return 'config';
    case MediaType.OciDescriptor:
      return 'descriptor';
    case MediaType.OciLayoutHeader:
      return 'layout';
    default:
      return undefined;
  }
}

type Check = (c: Checker, path: string, v: unknown, opts: ValidateOptions) => void;

const CHECKS: Record<SchemaKind, Check> = {
  manifest: checkManifest,
  index: checkIndex,
  config: checkConfig,
  descriptor: (c, path, v) => checkDescriptor(c, path, v),
  layout: checkLayout,
};

// ---- building blocks -------------------------------------------------------------------------------------------

function object(c: Checker, path: string, v: unknown): v is Record<string, unknown> {
  return isObject(v) || c.fail(path, `must be an object, not ${jsonType(v)}`);
}

function required(c: Checker, path: string, o: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of keys) if (!Object.hasOwn(o, k)) c.fail(ptr(path, k), 'is required');
}

function string(c: Checker, path: string, v: unknown): v is string {
  return typeof v === 'string' || c.fail(path, `must be a string, not ${jsonType(v)}`);
}

function stringArray(c: Checker, path: string, v: unknown, each?: (p: string, s: string) => void): void {
  if (!Array.isArray(v)) {
    c.fail(path, `must be an array of strings, not ${jsonType(v)}`);
    return;
  }
  v.forEach((s, i) => {
    if (string(c, ptr(path, i), s) && each) each(ptr(path, i), s);
  });
}

function mediaType(c: Checker, path: string, v: unknown): void {
  if (string(c, path, v) && !MEDIA_TYPE_RE.test(v)) c.fail(path, `"${short(v)}" is not a media type (type/subtype)`);
}

function dateTime(c: Checker, path: string, v: unknown): void {
  if (string(c, path, v) && !isDateTime(v)) c.fail(path, `"${short(v)}" is not an RFC 3339 date-time`);
}

function stringMap(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  for (const [k, s] of Object.entries(v)) string(c, ptr(path, k), s);
}

function objectMap(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  for (const [k, o] of Object.entries(v)) object(c, ptr(path, k), o);
}

function nullOr(c: Checker, path: string, v: unknown, check: (c: Checker, path: string, v: unknown) => void): void {
  if (v !== null) check(c, path, v);
}

function has(o: Record<string, unknown>, k: string): boolean {
  return Object.hasOwn(o, k);
}

// ---- descriptors and platforms ---------------------------------------------------------------------------------

/** A content descriptor (content-descriptor.json, and the index's manifest descriptors, which add `platform`). */
function checkDescriptor(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  required(c, path, v, ['mediaType', 'size', 'digest']);
  if (has(v, 'mediaType')) mediaType(c, ptr(path, 'mediaType'), v.mediaType);
  if (has(v, 'size')) {
    const s = v.size;
    if (typeof s !== 'number' || !Number.isInteger(s)) c.fail(ptr(path, 'size'), `must be an integer, not ${jsonType(s)}`);
    else if (s < 0 || !Number.isSafeInteger(s)) c.fail(ptr(path, 'size'), `${s} is out of range (0 to 2^53-1)`);
  }
  if (has(v, 'digest') && string(c, ptr(path, 'digest'), v.digest)) {
    const problem = digestProblem(v.digest);
    if (problem) c.fail(ptr(path, 'digest'), problem);
  }
  if (has(v, 'urls')) {
    stringArray(c, ptr(path, 'urls'), v.urls, (p, s) => {
      if (!isUri(s)) c.fail(p, `"${short(s)}" is not an absolute URI`);
    });
  }
  if (has(v, 'data') && string(c, ptr(path, 'data'), v.data) && !isBase64(v.data)) {
    c.fail(ptr(path, 'data'), 'must be standard base64 with padding');
  }
  if (has(v, 'artifactType')) mediaType(c, ptr(path, 'artifactType'), v.artifactType);
  if (has(v, 'annotations')) stringMap(c, ptr(path, 'annotations'), v.annotations);
  if (has(v, 'platform')) checkPlatform(c, ptr(path, 'platform'), v.platform);
}

function checkPlatform(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  required(c, path, v, ['architecture', 'os']);
  for (const k of ['architecture', 'os', 'os.version', 'variant']) if (has(v, k)) string(c, ptr(path, k), v[k]);
  if (has(v, 'os.features')) stringArray(c, ptr(path, 'os.features'), v['os.features']);
}

// ---- manifests and indexes -------------------------------------------------------------------------------------

function schemaVersion(c: Checker, path: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) c.fail(path, `must be the integer 2, not ${jsonType(v)}`);
  else if (v !== 2) c.fail(path, `must be 2, not ${v}`);
}

function topLevel(c: Checker, o: Record<string, unknown>): void {
  if (has(o, 'schemaVersion')) schemaVersion(c, '/schemaVersion', o.schemaVersion);
  if (has(o, 'mediaType')) mediaType(c, '/mediaType', o.mediaType);
  if (has(o, 'artifactType')) mediaType(c, '/artifactType', o.artifactType);
  if (has(o, 'subject')) checkDescriptor(c, '/subject', o.subject);
  if (has(o, 'annotations')) stringMap(c, '/annotations', o.annotations);
}

function checkManifest(c: Checker, path: string, v: unknown, opts: ValidateOptions): void {
  if (!object(c, path, v)) return;
  required(c, path, v, ['schemaVersion', 'config', 'layers']);
  topLevel(c, v);
  if (has(v, 'config')) checkDescriptor(c, '/config', v.config);
  if (has(v, 'layers')) {
    const layers = v.layers;
    if (!Array.isArray(layers)) c.fail('/layers', `must be an array of descriptors, not ${jsonType(layers)}`);
    else {
      if (layers.length === 0 && !opts.allowEmptyLayers) c.fail('/layers', 'must list at least one layer');
      layers.forEach((d, i) => checkDescriptor(c, ptr('/layers', i), d));
    }
  }
}

function checkIndex(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  required(c, path, v, ['schemaVersion', 'manifests']);
  topLevel(c, v);
  if (has(v, 'manifests')) {
    const manifests = v.manifests;
    if (!Array.isArray(manifests)) c.fail('/manifests', `must be an array of descriptors, not ${jsonType(manifests)}`);
    else manifests.forEach((d, i) => checkDescriptor(c, ptr('/manifests', i), d));
  }
}

function checkLayout(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  required(c, path, v, ['imageLayoutVersion']);
  if (has(v, 'imageLayoutVersion') && v.imageLayoutVersion !== '1.0.0') {
    c.fail(
      '/imageLayoutVersion',
      `must be "1.0.0", not ${typeof v.imageLayoutVersion === 'string' ? `"${short(v.imageLayoutVersion)}"` : jsonType(v.imageLayoutVersion)}`,
    );
  }
}

// ---- image configs ---------------------------------------------------------------------------------------------

function checkConfig(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  required(c, path, v, ['architecture', 'os', 'rootfs']);
  if (has(v, 'created')) dateTime(c, '/created', v.created);
  for (const k of ['author', 'architecture', 'variant', 'os', 'os.version']) if (has(v, k)) string(c, ptr('', k), v[k]);
  if (has(v, 'os.features')) stringArray(c, '/os.features', v['os.features']);
  if (has(v, 'config')) checkRunConfig(c, '/config', v.config);
  if (has(v, 'rootfs')) checkRootfs(c, '/rootfs', v.rootfs);
  if (has(v, 'history')) {
    if (!Array.isArray(v.history)) c.fail('/history', `must be an array, not ${jsonType(v.history)}`);
    else v.history.forEach((h, i) => checkHistory(c, ptr('/history', i), h));
  }
}

function checkRunConfig(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  for (const k of ['User', 'WorkingDir', 'StopSignal']) if (has(v, k)) string(c, ptr(path, k), v[k]);
  if (has(v, 'ExposedPorts')) objectMap(c, ptr(path, 'ExposedPorts'), v.ExposedPorts);
  if (has(v, 'Env')) {
    stringArray(c, ptr(path, 'Env'), v.Env, (p, s) => {
      if (!isEnvEntry(s)) c.fail(p, `"${short(s)}" is not NAME=value`);
    });
  }
  for (const k of ['Entrypoint', 'Cmd']) if (has(v, k)) nullOr(c, ptr(path, k), v[k], (c2, p, x) => stringArray(c2, p, x));
  if (has(v, 'Volumes')) nullOr(c, ptr(path, 'Volumes'), v.Volumes, objectMap);
  if (has(v, 'Labels')) nullOr(c, ptr(path, 'Labels'), v.Labels, stringMap);
  if (has(v, 'ArgsEscaped') && typeof v.ArgsEscaped !== 'boolean') c.fail(ptr(path, 'ArgsEscaped'), `must be a boolean, not ${jsonType(v.ArgsEscaped)}`);
}

function checkRootfs(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  required(c, path, v, ['diff_ids', 'type']);
  if (has(v, 'diff_ids')) stringArray(c, ptr(path, 'diff_ids'), v.diff_ids);
  if (has(v, 'type') && v.type !== 'layers') c.fail(ptr(path, 'type'), `must be "layers"`);
}

function checkHistory(c: Checker, path: string, v: unknown): void {
  if (!object(c, path, v)) return;
  if (has(v, 'created')) dateTime(c, ptr(path, 'created'), v.created);
  for (const k of ['author', 'created_by', 'comment']) if (has(v, k)) string(c, ptr(path, k), v[k]);
  if (has(v, 'empty_layer') && typeof v.empty_layer !== 'boolean') c.fail(ptr(path, 'empty_layer'), `must be a boolean, not ${jsonType(v.empty_layer)}`);
}
