import { isAbsolute, posix, resolve } from 'node:path';
import { parseSize } from '../../runtime/options.js';
import type { ContainerMount } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';

/**
 * What a container mounts besides its root, from `-v`, `--mount` and `--tmpfs` as podman reads
 * them. Parsed when the container is created (so a typo fails `create`, not a later `start`) and
 * kept in the record; named volumes are looked up, and made, by name.
 */
export type MountSpec = ContainerMount;

/** Names a volume must have: docker's rule. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const PROPAGATION = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'unbindable', 'runbindable'];
/** Options podman takes on -v; SELinux relabelling (z, Z) has nothing to do on this host; U gives the source to the container's user. */
const VOLUME_OPTIONS = ['ro', 'rw', 'z', 'Z', 'U', 'nocopy', 'copy', 'bind', 'rbind', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', ...PROPAGATION];

/** Whether `-v` takes this option (kube play reads the same after a colon in a mountPath, as podman's does). */
export function isVolumeOption(o: string): boolean {
  return VOLUME_OPTIONS.includes(o);
}
const TMPFS_DEFAULTS = ['rw', 'noexec', 'nosuid', 'nodev'];

export function validateVolumeName(name: string): string {
  if (!VOLUME_NAME.test(name)) throw new BerthError('USAGE', `invalid volume name "${name}": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
  return name;
}

function destination(path: string, spec: string): string {
  if (!path.startsWith('/')) throw new BerthError('USAGE', `invalid volume "${spec}": container path "${path}" must be absolute`);
  const normal = posix.normalize(path);
  // A mount over the root itself (`/`, `/..`) fails in the runtime with `mount ... to ``: Invalid argument`.
  if (normal === '/') throw new BerthError('USAGE', `invalid volume "${spec}": destination can't be '/'`);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

function bindSource(path: string, cwd: string): string {
  return isAbsolute(path) ? posix.normalize(path) : resolve(cwd, path);
}

/** `-v`: `/host:/ctr[:opts]`, `./rel:/ctr`, `NAME:/ctr[:opts]`, or `/ctr` alone (an anonymous volume). */
export function parseVolumeFlag(spec: string, opts: { cwd?: string; anonymousName: () => string }): MountSpec {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new BerthError('USAGE', `invalid volume "${spec}": expected [SOURCE:]CONTAINER-DIR[:OPTIONS]`);
  if (parts.length === 1) {
    return { type: 'volume', name: opts.anonymousName(), anonymous: true, destination: destination(parts[0]!, spec), options: [], noCopy: false };
  }
  const [source, dest, optText] = parts as [string, string, string | undefined];
  const options = optText ? optText.split(',') : [];
  for (const o of options) {
    if (!VOLUME_OPTIONS.includes(o)) throw new BerthError('USAGE', `invalid volume "${spec}": unknown option "${o}"`);
  }
  if (options.includes('ro') && options.includes('rw')) throw new BerthError('USAGE', `invalid volume "${spec}": ro and rw both given`);
  const kept = options.filter((o) => !['z', 'Z', 'copy', 'nocopy', 'rw', 'bind', 'rbind'].includes(o));
  if (source.startsWith('/') || source.startsWith('.')) {
    return { type: 'bind', source: bindSource(source, opts.cwd ?? process.cwd()), destination: destination(dest, spec), options: kept };
  }
  return {
    type: 'volume',
    name: validateVolumeName(source),
    anonymous: false,
    destination: destination(dest, spec),
    options: kept,
    noCopy: options.includes('nocopy'),
  };
}

function isTrue(value: string | undefined, spec: string, key: string): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new BerthError('USAGE', `invalid --mount "${spec}": ${key} takes true or false`);
}

/** `--mount type=bind|volume|tmpfs|image,source=,destination=,readonly,...` (docker's and podman's keys). */
export function parseMountFlag(spec: string, opts: { cwd?: string; anonymousName: () => string }): MountSpec {
  const fields = new Map<string, string | undefined>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    fields.set(key, eq === -1 ? undefined : part.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'volume';
  const src = fields.get('source') ?? fields.get('src');
  const dst = fields.get('destination') ?? fields.get('dst') ?? fields.get('target');
  if (!dst) throw new BerthError('USAGE', `invalid --mount "${spec}": destination is required`);
  const readOnly = ['readonly', 'ro'].some((k) => fields.has(k) && isTrue(fields.get(k), spec, k));
  const known = new Set(['type', 'source', 'src', 'destination', 'dst', 'target', 'readonly', 'ro', 'rw', 'consistency', 'relabel', 'z', 'Z']);
  const options: string[] = readOnly ? ['ro'] : [];
  const take = (key: string, fn: (v: string) => void) => {
    known.add(key);
    const v = fields.get(key);
    if (v !== undefined) fn(v);
  };
  if (type === 'bind') {
    if (!src) throw new BerthError('USAGE', `invalid --mount "${spec}": a bind mount needs source=`);
    take('bind-propagation', (v) => {
      if (!PROPAGATION.includes(v)) throw new BerthError('USAGE', `invalid --mount "${spec}": bind-propagation "${v}"`);
      options.push(v);
    });
    known.add('bind-nonrecursive');
    if (fields.has('bind-nonrecursive') && isTrue(fields.get('bind-nonrecursive'), spec, 'bind-nonrecursive')) options.push('bind');
    checkKeys(fields, known, spec);
    return { type: 'bind', source: bindSource(src, opts.cwd ?? process.cwd()), destination: destination(dst, spec), options };
  }
  if (type === 'volume') {
    known.add('volume-nocopy');
    const noCopy = fields.has('volume-nocopy') && isTrue(fields.get('volume-nocopy'), spec, 'volume-nocopy');
    checkKeys(fields, known, spec);
    const name = src ? validateVolumeName(src) : opts.anonymousName();
    return { type: 'volume', name, anonymous: !src, destination: destination(dst, spec), options, noCopy };
  }
  if (type === 'tmpfs') {
    const tmpfs = [...TMPFS_DEFAULTS];
    if (readOnly) tmpfs[0] = 'ro';
    take('tmpfs-size', (v) => tmpfs.push(`size=${parseSize(v, 'tmpfs-size')}`));
    take('tmpfs-mode', (v) => {
      if (!/^[0-7]{3,4}$/.test(v)) throw new BerthError('USAGE', `invalid --mount "${spec}": tmpfs-mode "${v}" is not octal`);
      tmpfs.push(`mode=${v}`);
    });
    checkKeys(fields, known, spec);
    return { type: 'tmpfs', destination: destination(dst, spec), options: tmpfs };
  }
  if (type === 'image') {
    if (!src) throw new BerthError('USAGE', `invalid --mount "${spec}": an image mount needs source=`);
    known.add('readwrite');
    const readWrite = ['rw', 'readwrite'].some((k) => fields.has(k) && isTrue(fields.get(k), spec, k)) && !readOnly;
    checkKeys(fields, known, spec);
    // The image is named here; create finds it in the store.
    return { type: 'image', source: src, imageId: '', destination: destination(dst, spec), options: readWrite ? [] : ['ro'], readWrite };
  }
  throw new BerthError('USAGE', `invalid --mount "${spec}": type "${type}" is not supported: use bind, volume, tmpfs or image`);
}

function checkKeys(fields: Map<string, string | undefined>, known: Set<string>, spec: string): void {
  for (const key of fields.keys()) {
    if (!known.has(key)) throw new BerthError('USAGE', `invalid --mount "${spec}": unknown option "${key}"`);
  }
}

/** `--tmpfs /path[:opt,opt]`: podman's defaults (rw,noexec,nosuid,nodev), the user's options after them. */
export function parseTmpfsFlag(spec: string): MountSpec {
  const colon = spec.indexOf(':');
  const path = colon === -1 ? spec : spec.slice(0, colon);
  const extra =
    colon === -1
      ? []
      : spec
          .slice(colon + 1)
          .split(',')
          .filter(Boolean);
  return { type: 'tmpfs', destination: destination(path, spec), options: [...TMPFS_DEFAULTS, ...extra] };
}

/**
 * Every mount of a container, later flags winning over earlier ones for the same destination as
 * podman resolves them; two different mounts on one destination are an error, the same one twice is one.
 */
export function parseContainerMounts(
  flags: { volumes: string[]; mounts: string[]; tmpfs: string[] },
  opts: { cwd?: string; anonymousName: () => string },
): MountSpec[] {
  const all = [...flags.volumes.map((v) => parseVolumeFlag(v, opts)), ...flags.mounts.map((m) => parseMountFlag(m, opts)), ...flags.tmpfs.map(parseTmpfsFlag)];
  // The same mount given twice is one mount (podman takes `-v a:/x -v a:/x`); two different
  // mounts on one destination are an error.
  const seen = new Map<string, string>();
  const out: MountSpec[] = [];
  for (const m of all) {
    const same = JSON.stringify(m.type === 'volume' && m.anonymous ? { ...m, name: '' } : m);
    const before = seen.get(m.destination);
    if (before === same) continue;
    if (before !== undefined) throw new BerthError('USAGE', `${m.destination}: duplicate mount destination`);
    seen.set(m.destination, same);
    out.push(m);
  }
  return out;
}
