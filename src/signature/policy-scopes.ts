/**
 * policy.json's scopes: which section of the policy applies to an image. Each transport names its
 * images by a scope string (containers/image `PolicyConfigurationIdentity`) and lists the wider
 * scopes that contain it (`PolicyConfigurationNamespaces`); the first of those the policy has
 * wins, then the transport's "" scope, then `default`. The strings are containers/image's, so a
 * policy.json written for podman or skopeo selects the same sections in berth.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, normalize, resolve } from 'node:path';
import { formatReference, parseReference, referenceName, type ImageReference } from '../oci/reference.js';
import type { ImageUnderPolicy } from './types.js';

/** Transports whose scope is a file or directory path: `dir:`, `oci:` and friends. */
const PATH_TRANSPORTS = new Set(['dir', 'oci', 'oci-archive', 'sif']);
/** Transports that have no scope but "" (their images have no stable name to scope by). */
const UNSCOPED_TRANSPORTS = new Set(['docker-archive', 'tarball']);

/** Go's filepath.Clean for an absolute path: what containers/image calls the canonical form. */
function cleanPath(p: string): string {
  const n = normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/**
 * Why `scope` cannot be a scope of `transport` in policy.json, or undefined when it can
 * (containers/image `ValidatePolicyConfigurationScope`). Transports containers/image does not know
 * take any scope, as there. "" (the transport's default) is always valid and not asked about.
 */
export function scopeProblem(transport: string, scope: string): string | undefined {
  if (PATH_TRANSPORTS.has(transport)) {
    if (!scope.startsWith('/')) return 'must be an absolute path';
    if (scope === '/') return 'use the transport\'s default scope "" instead of "/"';
    const cleaned = cleanPath(scope);
    if (cleaned !== scope) return `not in canonical form, perhaps ${cleaned}`;
    return undefined;
  }
  if (UNSCOPED_TRANSPORTS.has(transport)) return `${transport}: does not support any scope except the default ""`;
  if (transport === 'docker-daemon' && /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(scope)) {
    return 'an algo:digest value cannot be a namespace';
  }
  return undefined;
}

/** containers/image `DockerReferenceNamespaces`: the repository, each parent namespace, the host, then `*.` wildcard domains. */
function dockerNamespaces(name: string): string[] {
  const res: string[] = [];
  let n = name;
  for (;;) {
    res.push(n);
    const slash = n.lastIndexOf('/');
    if (slash === -1) break;
    n = n.slice(0, slash);
  }
  // The host, without any port, then each of its parent domains as a wildcard.
  let host = n.includes(':') ? n.slice(0, n.indexOf(':')) : n;
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.')) {
    host = host.slice(dot + 1);
    res.push(`*.${host}`);
  }
  return res;
}

/** The scopes wider than an image's own, most specific first, for its transport. */
export function policyNamespaces(transport: string, scope: string): string[] {
  if (transport === 'docker' || transport === 'docker-daemon') {
    if (scope === '') return []; // docker-daemon by image ID: only the "" scope applies
    let ref: ImageReference;
    try {
      ref = parseReference(scope);
    } catch {
      return [];
    }
    const namespaces = dockerNamespaces(referenceName(ref));
    // A reference with neither tag nor digest (a digest not known yet) is its repository already.
    return ref.tag === undefined && ref.digest === undefined ? namespaces.slice(1) : namespaces;
  }
  if (transport === 'dir' || transport === 'sif') {
    const res: string[] = [];
    for (let p = scope, slash = p.lastIndexOf('/'); slash > 0; slash = p.lastIndexOf('/')) {
      p = p.slice(0, slash);
      res.push(p);
    }
    return res;
  }
  if (transport === 'oci' || transport === 'oci-archive') {
    // The layout itself is listed again: an `oci:DIR:REF` image's identity is DIR.
    const res: string[] = [];
    for (let p = scope; p !== '/' && p.includes('/'); p = p.slice(0, p.lastIndexOf('/'))) {
      res.push(p);
    }
    return res;
  }
  return [];
}

/** The scope of a `docker://` image: its normalised reference with its tag, or its digest when it has one. */
export function dockerPolicyScope(ref: ImageReference): string {
  // containers/image refuses a reference with both; the digest is what the image is.
  if (ref.digest !== undefined) return `${referenceName(ref)}@${ref.digest}`;
  return formatReference(ref);
}

/**
 * The scope of a path-named image (`dir:`, `oci:`, `oci-archive:`): the absolute path with
 * symbolic links resolved; for a path that does not exist yet, its parent's resolved path.
 */
export function pathPolicyScope(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return join(existsSync(parent) ? realpathSync(parent) : parent, basename(abs));
}

/** A `docker://` image as the policy sees it: scope and identity from its reference. */
export function dockerImageUnderPolicy(ref: ImageReference, manifestDigest: string): ImageUnderPolicy {
  return { transport: 'docker', scope: dockerPolicyScope(ref), dockerReference: formatReference(ref), manifestDigest };
}

/**
 * A path-named image (`dir:`, `oci:`, `oci-archive:`) as the policy sees it: scoped by its resolved
 * path; its docker reference is the name it carries, if any (an OCI layout's ref.name usually is none).
 */
export function pathImageUnderPolicy(transport: string, path: string, manifestDigest: string, dockerReference?: string): ImageUnderPolicy {
  return { transport, scope: pathPolicyScope(path), manifestDigest, ...(dockerReference !== undefined ? { dockerReference } : {}) };
}
