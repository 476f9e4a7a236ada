import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { OciMount } from '../../runtime/spec.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { ContainerSecret } from '../../store/secrets.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { getSecret, readSecretData } from '../secrets/secrets.js';
import type { ContainerPaths } from './paths.js';

/**
 * A container's `--secret`s. At create each is resolved and its bytes copied into the bundle
 * (`userdata/secrets/`, a 0700 directory), so the container keeps what it was given even if the
 * secret is later replaced or removed, as podman does. At start a mount-type secret is bind
 * mounted read-only from that copy: the bytes never reach the container's upper dir, so neither
 * `commit` nor `export` can capture them. An env-type secret is put in the process's environment
 * only (not in the record, so `inspect` does not show it).
 */

const parseError = (what: string) => new BerthError('USAGE', `${what}: parsing secret`);

/** One `--secret NAME[,type=mount|env][,target=T][,mode=0444][,uid=0][,gid=0]`, as podman parses it. */
export function parseSecretSpec(spec: string): Omit<ContainerSecret, 'id'> {
  const parts = spec.split(',');
  let source = '';
  let type = '';
  let target = '';
  let mode = 0o444;
  let uid = 0;
  let gid = 0;
  let mountOnly = false;
  if (!parts[0]!.includes('=')) source = parts.shift()!;
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq === -1) throw parseError(`option ${part} must be in form option=value`);
    const [key, value] = [part.slice(0, eq), part.slice(eq + 1)];
    const id = (v: string, what: string) => {
      if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw parseError(`${what} ${v} invalid`);
      mountOnly = true;
      return Number(v);
    };
    switch (key) {
      case 'source':
        source = value;
        break;
      case 'type':
        if (type !== '') throw parseError('cannot set more than one secret type');
        if (value !== 'mount' && value !== 'env') throw parseError(`type ${value} is invalid`);
        type = value;
        break;
      case 'target':
        target = value;
        break;
      case 'mode':
        if (!/^[0-7]{1,11}$/.test(value)) throw parseError(`mode ${value} invalid`);
        mode = Number.parseInt(value, 8);
        mountOnly = true;
        break;
      case 'uid':
      case 'UID':
        uid = id(value, 'UID');
        break;
      case 'gid':
      case 'GID':
        gid = id(value, 'GID');
        break;
      default:
        throw parseError(`option ${part} invalid`);
    }
  }
  if (source === '') throw parseError(`no source found ${spec}`);
  if (type === 'env') {
    if (mountOnly) throw parseError('UID, GID, Mode options cannot be set with secret type env');
    return { name: source, type: 'env', target: target || source, mode, uid, gid };
  }
  // A relative target is a name under /run/secrets, as podman places it.
  const path = target === '' ? `/run/secrets/${source}` : posix.isAbsolute(target) ? posix.normalize(target) : posix.join('/run/secrets', target);
  return { name: source, type: 'mount', target: path, mode, uid, gid };
}

/** The `--secret`s of a new container, each resolved to the secret it names now. */
export async function resolveContainerSecrets(store: Store, specs: readonly string[]): Promise<ContainerSecret[]> {
  const out: ContainerSecret[] = [];
  for (const spec of specs) {
    const parsed = parseSecretSpec(spec);
    const secret = await getSecret(store, parsed.name);
    out.push({ ...parsed, name: secret.name, id: secret.id });
  }
  return out;
}

const secretsDir = (bundle: string) => join(bundle, 'secrets');
const copyPath = (bundle: string, index: number, s: ContainerSecret) => join(secretsDir(bundle), `${index}-${s.name}`);

/** Copies the secrets' bytes into the container's bundle (at create), with each mount's owner and mode. */
export async function copySecretsIntoBundle(store: Store, secrets: readonly ContainerSecret[], bundle: string): Promise<void> {
  if (secrets.length === 0) return;
  await mkdir(secretsDir(bundle), { recursive: true, mode: 0o700 });
  for (const [i, s] of secrets.entries()) {
    const path = copyPath(bundle, i, s);
    await writeFile(path, await readSecretData(store, await getSecret(store, s.id)), { mode: 0o600 });
    if (s.type === 'mount') {
      await chown(path, s.uid, s.gid);
      await chmod(path, s.mode);
    }
  }
}

/**
 * What start adds for the secrets: read-only bind mounts of the copies, and the process's
 * environment with the env-type secrets set (over a variable of the same name).
 */
export async function secretMountsAndEnv(c: ContainerRecord, paths: ContainerPaths): Promise<{ mounts: OciMount[]; env: string[] }> {
  const mounts: OciMount[] = [];
  const env = new Map(c.config.env.map((e) => [e.split('=', 1)[0]!, e]));
  for (const [i, s] of (c.config.secrets ?? []).entries()) {
    const path = copyPath(paths.bundle, i, s);
    if (s.type === 'env') env.set(s.target, `${s.target}=${(await readFile(path)).toString('utf8')}`);
    else mounts.push({ destination: s.target, type: 'bind', source: path, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec', 'rprivate'] });
  }
  return { mounts, env: [...env.values()] };
}
