// Platforms (os/architecture/variant): parsing `--platform` values, the host's platform, and choosing an image
// from an index or manifest list the way containers/image does (so berth pulls what podman would pull).
import { endianness } from 'node:os';
import { BerthError } from '../util/errors.js';
import type { Descriptor, DescriptorPlatform, ImageIndex } from './manifest.js';
import { MediaType } from './mediatypes.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
}

/** Architecture spellings that mean a GOARCH (containerd's normalizeArch), with the variant some of them imply. */
const ARCH_ALIASES: Readonly<Record<string, readonly [string, string?]>> = {
  x86_64: ['amd64'],
  'x86-64': ['amd64'],
  i386: ['386'],
  aarch64: ['arm64'],
  armhf: ['arm', 'v7'],
  armel: ['arm', 'v6'],
};

const KNOWN_OS = new Set([
  'linux',
  'windows',
  'darwin',
  'freebsd',
  'netbsd',
  'openbsd',
  'dragonfly',
  'solaris',
  'illumos',
  'aix',
  'plan9',
  'android',
  'ios',
  'js',
  'wasip1',
  'zos',
]);
const KNOWN_ARCH = new Set(['amd64', '386', 'arm', 'arm64', 'ppc64', 'ppc64le', 's390x', 'riscv64', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'wasm']);

/** Same names for the same thing: lower case, architecture aliases, variant spellings ("7" → "v7", amd64 "v1" → none). */
function canonical(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias[0];
    if (alias[1] !== undefined) variant = alias[1];
    if (architecture === '386') variant = undefined;
  }
  if (variant !== undefined) {
    if (architecture === 'arm' && /^[5-8]$/.test(variant)) variant = `v${variant}`;
    else if (architecture === 'arm64' && ['8', 'v8.0'].includes(variant)) variant = 'v8';
    else if (architecture === 'arm64' && ['9', '9.0', 'v9.0'].includes(variant)) variant = 'v9';
    else if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  }
  return withOptional({ os, architecture }, p, variant);
}

function withOptional(base: { os: string; architecture: string }, p: Platform, variant: string | undefined): Platform {
  return {
    ...base,
    ...(variant !== undefined ? { variant } : {}),
    ...(p.osVersion !== undefined ? { osVersion: p.osVersion } : {}),
    ...(p.osFeatures !== undefined ? { osFeatures: [...p.osFeatures] } : {}),
  };
}

/**
 * The canonical, fully specified form (containerd's rules): aliases resolved (aarch64 → arm64, x86_64 → amd64,
 * armhf → arm/v7, armel → arm/v6, i386 → 386), and the default variants filled in: arm64 → v8, arm → v7.
 * Two platforms are the same when their normalized forms are equal.
 */
export function normalizePlatform(p: Platform): Platform {
  const c = canonical(p);
  if (c.variant === undefined && c.architecture === 'arm64') return withOptional(c, c, 'v8');
  if (c.variant === undefined && c.architecture === 'arm') return withOptional(c, c, 'v7');
  return c;
}

/**
 * Parses `os[(osversion)][/arch[/variant]]` as `--platform` takes it ("linux/arm64/v8", "linux/amd64",
 * "windows(10.0.17763)/amd64"); a lone OS or architecture takes the rest from the host. Aliases are resolved but
 * no default variant is added: "linux/arm" accepts any arm image, "linux/arm/v7" asks for v7 or older.
 */
export function parsePlatform(s: string): Platform {
  const bad = (why: string): never => {
    throw new BerthError('USAGE', `invalid platform "${s}": ${why}`);
  };
  const parts = s.trim().split('/');
  if (parts.length > 3 || parts.some((x) => !/^[A-Za-z0-9_.()-]+$/.test(x))) bad('expected os[/arch[/variant]]');
  const m = /^([A-Za-z0-9_.-]+)(?:\(([A-Za-z0-9_.-]+)\))?$/.exec(parts[0]!);
  if (parts.slice(1).some((x) => /[()]/.test(x))) bad('only the OS may carry a version in parentheses');
  if (!m) return bad('expected os[/arch[/variant]]');
  const osVersion = m[2] !== undefined ? { osVersion: m[2] } : {};
  if (parts.length === 1) {
    const host = hostPlatform();
    const one = m[1]!.toLowerCase();
    if (KNOWN_OS.has(one) || one === 'macos') return canonical({ ...host, os: one, ...osVersion });
    const arch = canonical({ os: host.os, architecture: one });
    if (m[2] === undefined && KNOWN_ARCH.has(arch.architecture)) return arch;
    return bad('not a known operating system or architecture; use os/arch');
  }
  return canonical({ os: m[1]!, architecture: parts[1]!, ...(parts[2] !== undefined ? { variant: parts[2] } : {}), ...osVersion });
}

/** "os/arch[/variant]", as --platform takes it. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** An index entry's (or image config's) platform fields as a Platform. */
export function platformOf(
  p: DescriptorPlatform | { os: string; architecture: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] },
): Platform {
  return {
    os: p.os,
    architecture: p.architecture,
    ...(p.variant ? { variant: p.variant } : {}),
    ...(p['os.version'] !== undefined ? { osVersion: p['os.version'] } : {}),
    ...(p['os.features'] !== undefined ? { osFeatures: [...p['os.features']] } : {}),
  };
}

const NODE_OS: Readonly<Record<string, string>> = { win32: 'windows', sunos: 'solaris', cygwin: 'windows' };
const NODE_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', mipsel: 'mipsle', s390: 's390', ppc: 'ppc' };

let host: Platform | undefined;

/** The platform of this machine in Go's names (node's x64 → amd64, arm64 → arm64/v8, arm → arm/v7 or the built-for version). */
export function hostPlatform(): Platform {
  if (host) return { ...host };
  const os = NODE_OS[process.platform] ?? process.platform;
  let architecture = NODE_ARCH[process.arch] ?? process.arch;
  let variant: string | undefined;
  if (architecture === 'ppc64' && endianness() === 'LE') architecture = 'ppc64le';
  if (architecture === 'arm64') variant = 'v8';
  if (architecture === 'arm') {
    const v = (process.config.variables as Record<string, unknown>)['arm_version'];
    variant = typeof v === 'string' || typeof v === 'number' ? `v${v}` : 'v7';
  }
  host = { os, architecture, ...(variant ? { variant } : {}) };
  return { ...host };
}

/**
 * Variants each architecture's variants can run, from most capable to most compatible (containers/image's
 * compatibility table). Architectures without variants have no entry.
 */
const COMPATIBLE_VARIANTS: Readonly<Record<string, readonly string[]>> = {
  arm: ['v8', 'v7', 'v6', 'v5'],
  arm64: ['v8'],
};

/**
 * The platforms acceptable for `want`, best first, as containers/image's WantedPlatforms: with a variant, that
 * variant and the older ones it can run, then "no variant"; without one, "no variant" first, then every known variant.
 * A variant is given as undefined for "no variant".
 */
export function wantedPlatforms(want: Platform): Platform[] {
  const w = canonical(want);
  let variants: (string | undefined)[];
  const known = COMPATIBLE_VARIANTS[w.architecture] ?? [];
  if (w.variant !== undefined) {
    const i = known.indexOf(w.variant);
    variants = [...(i >= 0 ? known.slice(i) : [w.variant]), undefined];
  } else {
    variants = [undefined, ...known];
  }
  return variants.map((v) => ({ os: w.os, architecture: w.architecture, ...(v !== undefined ? { variant: v } : {}) }));
}

/** The annotation containers/image puts on zstd-compressed instances of a multi-compression index. */
export const ZSTD_INSTANCE_ANNOTATION = 'io.github.containers.compression.zstd';

export interface SelectOptions {
  /**
   * Between equally good instances that differ in compression, take the gzip one. Default false: like
   * containers/image's ChooseInstance, a zstd instance (marked with ZSTD_INSTANCE_ANNOTATION) is preferred.
   */
  preferGzip?: boolean;
}

/**
 * The index entry to use for `want`, as containers/image chooses: the entry whose platform comes earliest in
 * wantedPlatforms(want) (os, architecture and variant compared; os.version and os.features ignored), then by
 * compression preference, then the first in the index. OCI entries without a platform are a last resort;
 * Docker manifest list entries without one never match. PLATFORM_UNAVAILABLE lists what the index offers.
 */
export function selectFromIndex(index: ImageIndex, want: Platform, opts: SelectOptions = {}): Descriptor {
  const wanted = wantedPlatforms(want);
  const dockerList = index.mediaType === MediaType.DockerManifestList;
  let best: { rank: number; zstd: boolean; desc: Descriptor } | undefined;
  for (const desc of index.manifests) {
    let rank = Number.MAX_SAFE_INTEGER;
    if (desc.platform) {
      const p = canonical(platformOf(desc.platform));
      rank = wanted.findIndex((w) => w.os === p.os && w.architecture === p.architecture && w.variant === p.variant);
      if (rank < 0) continue;
    } else if (dockerList) {
      continue;
    }
    const zstd = desc.annotations?.[ZSTD_INSTANCE_ANNOTATION] === 'true';
    const better = best === undefined || rank < best.rank || (rank === best.rank && zstd !== best.zstd && zstd !== (opts.preferGzip ?? false));
    if (better) best = { rank, zstd, desc };
  }
  if (best) return best.desc;
  const offered = [...new Set(index.manifests.map((d) => (d.platform ? formatPlatform(platformOf(d.platform)) : '(no platform)')))];
  const offers = offered.length > 0 ? `it offers ${offered.join(', ')}` : 'it lists no images';
  throw new BerthError('PLATFORM_UNAVAILABLE', `no image for ${formatPlatform(canonical(want))} in the image index; ${offers}`);
}
