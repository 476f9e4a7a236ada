/**
 * Docker's rules for what a container runs with, read at create (and the environment at exec):
 * the process's arguments from the image's Entrypoint/Cmd and the flags, the environment from the
 * image, the host, env files and -e, and the restart policy.
 */
import { readFile } from 'node:fs/promises';
import type { ContainerConfig } from '../../oci/manifest.js';
import { parseEnvFile, parseEnvFlag } from '../../runtime/options.js';
import type { ContainerSpecConfig } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's rules for the process: --entrypoint replaces Entrypoint and clears Cmd; a command replaces Cmd. */
export function processArgs(image: ContainerConfig, opts: { entrypoint?: string; command?: string[] }): { entrypoint: string[]; command: string[] } {
  let entrypoint = image.Entrypoint ?? [];
  let command = image.Cmd ?? [];
  if (opts.entrypoint !== undefined) {
    entrypoint = parseEntrypoint(opts.entrypoint);
    command = [];
  }
  if (opts.command && opts.command.length > 0) command = opts.command;
  return { entrypoint, command };
}

function parseEntrypoint(value: string): string[] {
  if (value === '') return [];
  if (value.startsWith('[')) {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
    } catch {
      // not JSON: one word, as docker takes it
    }
  }
  return [value];
}

/** --env-host, --unsetenv and --unsetenv-all: what happens to the defaults before the user's variables. */
export interface EnvDefaults {
  envHost?: boolean | undefined;
  unset?: string[] | undefined;
  unsetAll?: boolean | undefined;
}

/**
 * The environment: the image's (and the host's with --env-host) less --unsetenv's names, then
 * --env-file, then -e; a bare KEY takes the caller's value.
 */
export async function mergeEnv(image: string[], envFiles: string[], env: string[], opts: { tty: boolean; hostname: string } & EnvDefaults): Promise<string[]> {
  const out = new Map<string, string>();
  const put = (entry: string) => {
    const eq = entry.indexOf('=');
    if (eq === -1) {
      const host = process.env[entry];
      if (host !== undefined) out.set(entry, host);
      return;
    }
    out.set(entry.slice(0, eq), entry.slice(eq + 1));
  };
  if (!opts.unsetAll) {
    put(DEFAULT_PATH);
    image.forEach(put);
  }
  if (opts.envHost) for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out.set(k, v);
  for (const name of opts.unset ?? []) out.delete(name);
  for (const file of envFiles) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new BerthError('USAGE', `reading env file ${file}: ${(e as Error).message}`, { cause: e });
    }
    parseEnvFile(text).forEach(put);
  }
  env.map(parseEnvFlag).forEach(put);
  const unset = (k: string) => opts.unsetAll || opts.unset?.includes(k);
  if (!out.has('container') && !unset('container')) out.set('container', 'berth');
  if (opts.tty && !out.has('TERM') && !unset('TERM')) out.set('TERM', 'xterm');
  // podman sets HOSTNAME whatever --unsetenv says.
  if (!out.has('HOSTNAME')) out.set('HOSTNAME', opts.hostname);
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/** `--restart`: no, on-failure[:max-retries], always or unless-stopped, as docker and podman take it. */
export function parseRestartPolicy(value: string | undefined): ContainerSpecConfig['restartPolicy'] {
  if (!value || value === 'no') return { name: 'no', maxRetries: 0 };
  const [name, count] = value.split(':');
  if (name === 'on-failure') {
    const n = count === undefined ? 0 : Number(count);
    if (!Number.isInteger(n) || n < 0) throw new BerthError('USAGE', `invalid restart policy retry count "${count}": must be a non-negative integer`);
    return { name, maxRetries: n };
  }
  if ((name === 'always' || name === 'unless-stopped') && count === undefined) return { name, maxRetries: 0 };
  throw new BerthError('USAGE', `invalid restart policy "${value}": must be no, on-failure[:max-retries], always or unless-stopped`);
}

/**
 * `--log-driver`: k8s-file, the default (json-file is its alias, as podman has it), or none (no log
 * kept; the output still reaches an attached caller). passthrough and journald are podman's too but
 * not berth's (USAGE naming why); anything else is invalid, with podman's words.
 */
export function logDriverOf(value: string | undefined): 'k8s-file' | 'none' {
  if (value === undefined || value === '' || value === 'k8s-file' || value === 'json-file') return 'k8s-file';
  if (value === 'none') return 'none';
  if (value === 'passthrough' || value === 'journald') {
    throw new BerthError('USAGE', `--log-driver ${value} is not supported by berth: its containers log to a k8s-file log, or with none to nothing`);
  }
  throw new BerthError('USAGE', `invalid log driver: ${value}`);
}
