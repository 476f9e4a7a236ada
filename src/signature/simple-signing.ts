/**
 * containers/image's simple-signing ("atomic container signature") payload: the JSON that a GPG
 * signature (and a sigstore one) signs. Written as containers/image writes it, and parsed as strictly
 * as it parses it: every critical field required with its type, no unknown critical field, unknown
 * optional fields tolerated, a non-integer timestamp refused.
 */
import { isDigest } from '../oci/digest.js';
import { BerthError } from '../util/errors.js';
import type { SignedClaim } from './types.js';

export const SIGNATURE_TYPE = 'atomic container signature';

/** What a signer adds beside the claim (containers/image's `optional` section). */
export interface PayloadExtras {
  creator?: string;
  /** Unix seconds. */
  timestamp?: number;
}

export interface ParsedPayload extends SignedClaim, PayloadExtras {}

/** The payload bytes for `claim`, keys in containers/image's order. */
export function makePayload(claim: SignedClaim, extras: PayloadExtras = {}): Uint8Array {
  const optional: Record<string, unknown> = {};
  if (extras.creator !== undefined) optional.creator = extras.creator;
  if (extras.timestamp !== undefined) optional.timestamp = Math.trunc(extras.timestamp);
  const doc = {
    critical: {
      identity: { 'docker-reference': claim.dockerReference },
      image: { 'docker-manifest-digest': claim.manifestDigest },
      type: SIGNATURE_TYPE,
    },
    optional,
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

function invalid(why: string): BerthError {
  return new BerthError('SIGNATURE_INVALID', `invalid signature payload: ${why}`);
}

function objectOf(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** The object's fields must be exactly `fields`: each present, nothing else (containers/image's ExactFields). */
function exactFields(o: Record<string, unknown>, what: string, fields: readonly string[]): void {
  for (const k of Object.keys(o)) if (!fields.includes(k)) throw invalid(`unknown field ${JSON.stringify(k)} in ${what}`);
  for (const k of fields) if (!(k in o)) throw invalid(`${what} has no ${JSON.stringify(k)}`);
}

function stringField(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw invalid(`${what}.${key} is not a string`);
  return v;
}

/** The objects containers/image decodes field by field, refusing a key given twice; the rest it decodes leniently. */
const STRICT_OBJECTS = new Set(['', '/critical', '/optional', '/critical/image', '/critical/identity']);

/**
 * The first key given twice in one of STRICT_OBJECTS of `text` (valid JSON), if any. JSON.parse
 * keeps the last of two equal keys silently; containers/image refuses the payload, so berth does.
 */
function duplicateKey(text: string): string | undefined {
  const stack: { path: string; keys?: Set<string>; wantKey: boolean; lastKey?: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.keys && top.wantKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (STRICT_OBJECTS.has(top.path) && top.keys.has(key)) return `${top.path}/${key}`;
        top.keys.add(key);
        top.lastKey = key;
        top.wantKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const parent = stack.at(-1);
      const path = parent === undefined ? '' : `${parent.path}/${parent.keys ? (parent.lastKey ?? '') : '[]'}`;
      stack.push(c === '{' ? { path, keys: new Set(), wantKey: true } : { path, wantKey: false });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top?.keys) top.wantKey = true;
    }
  }
  return undefined;
}

/** Parses a verified payload; throws BerthError('SIGNATURE_INVALID') naming what is wrong. */
export function parsePayload(bytes: Uint8Array): ParsedPayload {
  let doc: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    doc = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  const twice = duplicateKey(text);
  if (twice !== undefined) throw invalid(`duplicate field ${JSON.stringify(twice.slice(1))}`);
  const top = objectOf(doc, 'the payload');
  exactFields(top, 'the payload', ['critical', 'optional']);
  const optional = objectOf(top.optional, 'optional');
  const extras: PayloadExtras = {};
  if ('creator' in optional) extras.creator = stringField(optional, 'creator', 'optional');
  if ('timestamp' in optional) {
    const t = optional.timestamp;
    if (typeof t !== 'number' || !Number.isInteger(t)) throw invalid('optional.timestamp is not an integer');
    extras.timestamp = t;
  }
  const critical = objectOf(top.critical, 'critical');
  exactFields(critical, 'critical', ['type', 'image', 'identity']);
  const type = stringField(critical, 'type', 'critical');
  if (type !== SIGNATURE_TYPE) throw invalid(`unrecognized signature type ${JSON.stringify(type)}`);
  const image = objectOf(critical.image, 'critical.image');
  exactFields(image, 'critical.image', ['docker-manifest-digest']);
  const manifestDigest = stringField(image, 'docker-manifest-digest', 'critical.image');
  if (!isDigest(manifestDigest)) throw invalid(`critical.image.docker-manifest-digest ${JSON.stringify(manifestDigest)} is not a digest`);
  const identity = objectOf(critical.identity, 'critical.identity');
  exactFields(identity, 'critical.identity', ['docker-reference']);
  const dockerReference = stringField(identity, 'docker-reference', 'critical.identity');
  return { dockerReference, manifestDigest, ...extras };
}
