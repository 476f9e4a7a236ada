/**
 * Registry credentials as podman/skopeo keep them (containers-auth.json(5)): which files to read and
 * in what order, which entry answers a registry or repository, credential helpers, and the writes of
 * login/logout. Every path comes from `AuthOptions` (env, home, uid), so callers and tests choose.
 */
import { rootlessIds } from '../util/rootless.js';
import { readFile } from 'node:fs/promises';
import { makeDirs } from '../util/dirs.js';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeUserFile } from '../util/user-file.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { hasCredentials, matchAuthFile, normalizeAuthFileKey, normalizeRegistry, parseAuthFile, serializeAuthFile, type AuthFile } from './_auth-file.js';
import { credentialHelperErase, credentialHelperGet, credentialHelperStore, helperProgram, type Credentials } from './_credhelper.js';

export { credentialHelperErase, credentialHelperGet, credentialHelperStore, helperProgram, type Credentials } from './_credhelper.js';
export { authKeysForKey, normalizeAuthFileKey } from './_auth-file.js';

/** The credential-helpers entry that means "the auth files" (as registries.conf spells it). */
export const AUTH_FILES = 'containers-auth.json';

export interface AuthOptions {
  /** Environment: REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME, DOCKER_CONFIG, PATH (for helpers). Default process.env. */
  env?: Record<string, string | undefined>;
  /** Default os.homedir(). */
  home?: string;
  /** For /run/containers/<uid>/auth.json when XDG_RUNTIME_DIR is unset. Default process.getuid(). */
  uid?: number;
  /** `--authfile`: the only file read and the one written. */
  authfile?: string;
  /** registries.conf `credential-helpers` (RegistriesConf.credentialHelpers); default ['containers-auth.json']. */
  credentialHelpers?: string[];
  /** `--creds`: taken as is, nothing is read. */
  override?: Credentials;
}

export interface AuthFilePath {
  path: string;
  /** The old ~/.dockercfg format: a bare host → entry map. */
  legacy: boolean;
}

const envOf = (o: AuthOptions): Record<string, string | undefined> => o.env ?? process.env;
const homeOf = (o: AuthOptions): string => o.home ?? homedir();

/** `getPathToAuth`: the file login writes (and the first one read); `userSpecified` when from --authfile/$REGISTRY_AUTH_FILE. */
export function authFileForWriting(opts: AuthOptions = {}): { path: string; userSpecified: boolean } {
  const env = envOf(opts);
  const specified = opts.authfile || env['REGISTRY_AUTH_FILE'];
  if (specified) return { path: specified, userSpecified: true };
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir) return { path: join(runtimeDir, 'containers', 'auth.json'), userSpecified: false };
  const uid = opts.uid ?? rootlessIds()?.uid ?? process.getuid?.() ?? 0;
  return { path: `/run/containers/${uid}/auth.json`, userSpecified: false };
}

/**
 * `getAuthFilePaths`, in lookup order: --authfile or $REGISTRY_AUTH_FILE alone when given; otherwise
 * $XDG_RUNTIME_DIR/containers/auth.json, $XDG_CONFIG_HOME (~/.config)/containers/auth.json,
 * $DOCKER_CONFIG/config.json or ~/.docker/config.json, then the legacy ~/.dockercfg.
 */
export function authFilePaths(opts: AuthOptions = {}): AuthFilePath[] {
  const first = authFileForWriting(opts);
  const paths: AuthFilePath[] = [{ path: first.path, legacy: false }];
  if (first.userSpecified) return paths;
  const env = envOf(opts);
  const home = homeOf(opts);
  paths.push({ path: join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'containers', 'auth.json'), legacy: false });
  paths.push({ path: env['DOCKER_CONFIG'] ? join(env['DOCKER_CONFIG'], 'config.json') : join(home, '.docker', 'config.json'), legacy: false });
  paths.push({ path: join(home, '.dockercfg'), legacy: true });
  return paths;
}

/** Reads an auth file; a missing one is empty. */
export async function readAuthFile(path: string, legacy = false): Promise<AuthFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return { auths: {}, credHelpers: {}, raw: {} };
    throw new BerthError('IO', `${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseAuthFile(path, text, legacy);
}

/**
 * `validateKey`: a key is 'host[:port]' or 'host[:port]/namespace[/repo]', never a URL, tag or digest.
 * Returns the registry (host) part.
 */
export function validateAuthKey(key: string): { registry: string; namespaced: boolean } {
  if (/^https?:\/\//.test(key)) throw new BerthError('USAGE', `key ${key} contains http[s]:// prefix`);
  if (key.includes('@')) throw new BerthError('USAGE', `key ${key} contains a '@' character`);
  const slash = key.indexOf('/');
  if (slash !== -1 && key.slice(slash + 1).includes(':')) throw new BerthError('USAGE', `key ${key} contains a tag`);
  return { registry: slash === -1 ? key : key.slice(0, slash), namespaced: slash !== -1 };
}

/**
 * What a user may type to `login`/`logout`: a URL ('https://index.docker.io/v1/') becomes its host,
 * docker.io's other names become 'docker.io', trailing slashes go.
 */
export function normalizeLoginKey(input: string): string {
  const key = /^https?:\/\//.test(input) ? normalizeAuthFileKey(input, false) : input.replace(/\/+$/, '');
  return normalizeRegistry(key) === 'index.docker.io' ? 'docker.io' : key;
}

/** Where credentials for a key come from: a file entry, or a helper (`docker-credential-<helper>`) to run. */
export type CredentialSource =
  | { kind: 'file'; path: string; entry: string; credentials: Credentials }
  | { kind: 'helper'; helper: string; program: string; serverURL: string; path?: string };

/**
 * The sources to consult for `key`, in order, without running any helper: for each configured
 * credential helper, either the auth files' answers (credHelpers/credsStore become helper sources)
 * or the helper itself.
 */
export async function credentialSources(key: string, opts: AuthOptions = {}): Promise<CredentialSource[]> {
  const { registry } = validateAuthKey(key);
  const out: CredentialSource[] = [];
  for (const helper of opts.credentialHelpers ?? [AUTH_FILES]) {
    if (helper !== AUTH_FILES) {
      out.push({ kind: 'helper', helper, program: helperProgram(helper), serverURL: registry });
      continue;
    }
    for (const { path, legacy } of authFilePaths(opts)) {
      const match = matchAuthFile(await readAuthFile(path, legacy), key, registry, legacy);
      if (match?.kind === 'credentials') out.push({ kind: 'file', path, entry: match.entry, credentials: match.credentials });
      else if (match?.kind === 'helper') out.push({ kind: 'helper', helper: match.helper, program: helperProgram(match.helper), serverURL: registry, path });
    }
  }
  return out;
}

/**
 * `GetCredentials`: the first credentials found for `key` (most specific auth-file entry wins within a
 * file; files and helpers in order). Undefined when none. Helper failures are reported only when no
 * other source had credentials.
 */
export async function getCredentials(key: string, opts: AuthOptions = {}): Promise<Credentials | undefined> {
  if (opts.override) return opts.override;
  const errors: unknown[] = [];
  for (const source of await credentialSources(key, opts)) {
    if (source.kind === 'file') return source.credentials;
    try {
      const creds = await credentialHelperGet(source.helper, source.serverURL, envOf(opts));
      if (hasCredentials(creds)) return creds;
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new BerthError('IO', errors.map((e) => (e as Error).message).join('; '), { cause: errors[0] });
  return undefined;
}

async function editAuthFile(opts: AuthOptions, edit: (file: AuthFile, path: string) => Promise<boolean>): Promise<string> {
  const { path } = authFileForWriting(opts);
  const file = await readAuthFile(path);
  if (await edit(file, path)) {
    await makeDirs(dirname(path), 0o700);
    // --authfile may name a symlink (kept, its target written) or even a FIFO: never replaced by a file.
    await writeUserFile(path, serializeAuthFile(file), { mode: 0o600 });
  }
  return path;
}

function namespacedHelperError(key: string, helper: string): BerthError {
  return new BerthError('USAGE', `${key}: namespaced keys are not supported by credential helper ${helperProgram(helper)}`);
}

/**
 * `SetCredentials` (login): stores username/password for `key` with the first configured helper that
 * takes it; for the auth file that is credHelpers[host] if set, else an `auths` entry (base64
 * "user:password") in authFileForWriting(), written atomically with mode 0600, other entries and
 * unknown fields kept. Returns where it went (a path or a helper program).
 */
export async function setCredentials(key: string, username: string, password: string, opts: AuthOptions = {}): Promise<string> {
  const { registry, namespaced } = validateAuthKey(key);
  const errors: unknown[] = [];
  for (const helper of opts.credentialHelpers ?? [AUTH_FILES]) {
    try {
      if (helper !== AUTH_FILES) {
        if (namespaced) throw namespacedHelperError(key, helper);
        await credentialHelperStore(helper, key, username, password, envOf(opts));
        return helperProgram(helper);
      }
      let via = '';
      const path = await editAuthFile(opts, async (file) => {
        // Reading asks credHelpers[host] before any entry, so a helper for the host takes the login.
        const ch = file.credHelpers[registry];
        if (ch !== undefined) {
          if (namespaced) throw namespacedHelperError(key, ch);
          await credentialHelperStore(ch, key, username, password, envOf(opts));
          via = helperProgram(ch);
          return false;
        }
        file.auths[key] = { auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
        return true;
      });
      return via || path;
    } catch (e) {
      errors.push(e);
    }
  }
  throw errors.length === 1 ? errors[0] : new BerthError('IO', `storing credentials for ${key}: ${errors.map((e) => (e as Error).message).join('; ')}`);
}

/**
 * `RemoveAuthentication` (logout): removes `key` from the auth file (also URL-style entries naming the
 * same host) and erases it from helpers. BerthError('USAGE', 'not logged in') when nothing held it.
 */
export async function removeCredentials(key: string, opts: AuthOptions = {}): Promise<void> {
  const { registry, namespaced } = validateAuthKey(key);
  let removed = false;
  const errors: unknown[] = [];
  for (const helper of opts.credentialHelpers ?? [AUTH_FILES]) {
    try {
      if (helper !== AUTH_FILES) {
        if (namespaced) throw namespacedHelperError(key, helper);
        removed = (await credentialHelperErase(helper, key, envOf(opts))) || removed;
        continue;
      }
      await editAuthFile(opts, async (file) => {
        const ch = file.credHelpers[registry];
        if (ch !== undefined) {
          if (namespaced) throw namespacedHelperError(key, ch);
          removed = (await credentialHelperErase(ch, key, envOf(opts))) || removed;
          return false;
        }
        const doomed = Object.keys(file.auths).filter(
          (k) => k === key || (!namespaced && k !== normalizeAuthFileKey(k, false) && normalizeAuthFileKey(k, false) === normalizeRegistry(key)),
        );
        for (const k of doomed) delete file.auths[k];
        removed ||= doomed.length > 0;
        return doomed.length > 0;
      });
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors.length === 1 ? errors[0] : new BerthError('IO', errors.map((e) => (e as Error).message).join('; '));
  if (!removed) throw new BerthError('USAGE', `not logged in to ${key}`);
}

/** Every key with an entry in the auth files (for `login --get-login`-style listings), most important file first. */
export async function listAuthKeys(opts: AuthOptions = {}): Promise<{ path: string; key: string }[]> {
  const out: { path: string; key: string }[] = [];
  for (const { path, legacy } of authFilePaths(opts)) {
    const file = await readAuthFile(path, legacy);
    for (const key of [...Object.keys(file.auths), ...Object.keys(file.credHelpers)]) out.push({ path, key });
  }
  return out;
}
