import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../../util/errors.js';
import { writeUserFile } from '../../util/user-file.js';
import type { ContainerRecord } from '../../store/containers.js';
import { requireContainer } from './lookup.js';
import type { MountSpec } from './mount-spec.js';

/** The host's zone files: --tz NAME becomes the container's /etc/localtime from here. */
export const ZONEINFO_DIR = '/usr/share/zoneinfo';

/** podman's --label-file: KEY=VALUE lines, # comments and blank lines skipped. */
export function parseLabelFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export async function readLabelFiles(files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch((e: Error) => {
      throw new BerthError('USAGE', `reading label file ${file}: ${e.message}`, { cause: e });
    });
    out.push(...parseLabelFile(text));
  }
  return out;
}

/** podman refuses a --cidfile that is already there, before it creates anything. */
export async function checkCidFile(path: string): Promise<void> {
  try {
    await access(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw e;
  }
  throw new BerthError('USAGE', `container id file exists. Ensure another container is not using it or delete ${path}`);
}

export async function writeCidFile(path: string, id: string): Promise<void> {
  try {
    await writeUserFile(path, id);
  } catch (e) {
    throw new BerthError('USAGE', `writing container id file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** `--tz`: `local` (the host's /etc/localtime), or an IANA zone name such as Europe/Berlin. */
export function checkTimezone(tz: string): void {
  if (tz === 'local') return;
  // Zone names are relative paths under the zoneinfo directory; nothing may climb out of it.
  if (tz === '' || tz.startsWith('/') || tz.split('/').includes('..')) throw new BerthError('USAGE', `finding timezone: unknown time zone ${tz}`);
}

/** The host file that becomes the container's /etc/localtime. */
export async function timezoneFile(tz: string): Promise<string> {
  const path = tz === 'local' ? '/etc/localtime' : join(ZONEINFO_DIR, tz);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) throw new BerthError('USAGE', `finding timezone: unknown time zone ${tz}`);
  return path;
}

/**
 * `--env-merge KEY=VALUE`: VALUE with `${VAR}` (or `$VAR`) taken from the environment built so
 * far (the image's and the user's), so `PATH=${PATH}:/opt/bin` extends the image's PATH.
 */
export function applyEnvMerge(env: string[], merges: string[]): string[] {
  if (merges.length === 0) return env;
  const vars = new Map(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  for (const m of merges) {
    const eq = m.indexOf('=');
    if (eq <= 0) throw new BerthError('USAGE', `invalid --env-merge "${m}": expected KEY=VALUE`);
    const value = m
      .slice(eq + 1)
      .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a: string | undefined, b: string | undefined) => vars.get((a ?? b)!) ?? '');
    vars.set(m.slice(0, eq), value);
  }
  return [...vars].map(([k, v]) => `${k}=${v}`);
}

/**
 * `--volumes-from CONTAINER[:ro|rw]`: the other container's volumes and bind mounts at the same
 * places (its tmpfs mounts are its own). `ro`/`rw` overrides each mount's own mode; the volumes
 * stay the other container's (removing this one with -v leaves them).
 */
export function volumesFromMounts(containers: readonly Pick<ContainerRecord, 'id' | 'name' | 'config'>[], specs: string[]): MountSpec[] {
  const out: MountSpec[] = [];
  for (const spec of specs) {
    const colon = spec.lastIndexOf(':');
    const mode = colon === -1 ? undefined : spec.slice(colon + 1);
    if (mode !== undefined && mode !== 'ro' && mode !== 'rw' && mode !== 'z')
      throw new BerthError('USAGE', `invalid options ${mode}, can only specify 'ro', 'rw', and 'z'`);
    const source = requireContainer(containers, mode === undefined ? spec : spec.slice(0, colon));
    for (const m of source.config.mountSpecs) {
      if (m.type === 'tmpfs') continue;
      const options = mode === 'ro' || mode === 'rw' ? [...m.options.filter((o) => o !== 'ro' && o !== 'rw'), mode] : m.options;
      out.push(m.type === 'volume' ? { ...m, anonymous: false, options } : { ...m, options });
    }
  }
  return out;
}

/** The user's own mounts win over --volumes-from's, which win over the image's anonymous volumes. */
export function withVolumesFrom(specs: MountSpec[], from: MountSpec[]): MountSpec[] {
  const out = [...specs];
  for (const m of from) {
    const i = out.findIndex((s) => s.destination === m.destination);
    if (i === -1) out.push(m);
    else if (out[i]!.type === 'volume' && (out[i] as { anonymous: boolean }).anonymous) out[i] = m;
  }
  return out;
}
