import { registriesConf } from '../../engine/images/index.js';
import { checkRegistryLogin, getCredentials, normalizeLoginKey, searchRegistries, setCredentials, validateAuthKey } from '../../engine/system/index.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import type { GlobalOptions } from '../context.js';
import { parseTlsVerify } from './_registry-opts.js';
import { readStdin } from './_stdin.js';
import { askOnTerminal } from './_terminal-prompt.js';

export interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  getLogin?: boolean;
  authfile?: string;
  certDir?: string;
  tlsVerify?: boolean | string;
  verbose?: boolean;
}

/** A password from stdin, without its last line break. */
async function readPassword(): Promise<string> {
  return (await readStdin()).toString('utf8').replace(/\r?\n$/, '');
}

/** The registry to log into: the argument, else the first unqualified-search registry (as podman). */
async function target(registry: string | undefined): Promise<{ key: string; host: string }> {
  let input = registry;
  if (!input) {
    input = searchRegistries(await registriesConf())[0];
    if (!input) throw new BerthError('USAGE', 'no registry given and no unqualified-search registries are configured');
  }
  const key = normalizeLoginKey(input);
  return { key, host: validateAuthKey(key).registry };
}

/** `berth login [REGISTRY]`: verifies the credentials with the registry, then stores them. */
export async function run(_g: GlobalOptions, registry: string | undefined, opts: LoginFlags): Promise<void> {
  const { key, host } = await target(registry);
  const conf = await registriesConf();
  const authOpts = { ...(opts.authfile ? { authfile: opts.authfile } : {}), credentialHelpers: conf.credentialHelpers };
  if (opts.getLogin) {
    const creds = await getCredentials(key, authOpts);
    if (!creds || creds.username === '') throw new BerthError('USAGE', `not logged into ${key}`);
    process.stdout.write(`${creds.username}\n`);
    return;
  }
  if (opts.password !== undefined && opts.passwordStdin) throw new BerthError('USAGE', '--password and --password-stdin are mutually exclusive');
  const tlsVerify = parseTlsVerify(opts.tlsVerify);
  const clientOpts = { registriesConf: conf, ...(tlsVerify !== undefined ? { tlsVerify } : {}), ...(opts.certDir ? { certDir: opts.certDir } : {}) };
  const tty = Boolean(process.stdin.isTTY);

  if (opts.username === undefined && opts.password === undefined && !opts.passwordStdin) {
    // podman: stored credentials that still work need no new login.
    const stored = await getCredentials(key, authOpts).catch(() => undefined);
    if (stored && stored.username !== '') {
      try {
        await checkRegistryLogin(host, { ...clientOpts, creds: { username: stored.username, password: stored.password } });
        process.stdout.write(`Authenticating with existing credentials for ${key}\nExisting credentials are valid. Already logged in to ${key}\n`);
        return;
      } catch {
        // fall through to asking
      }
    }
  }
  let username = opts.username;
  if (username === undefined) {
    if (!tty || opts.passwordStdin) throw new BerthError('USAGE', 'a username is needed: use --username (there is no terminal to ask on)');
    username = (await askOnTerminal('Username: ', false)).trim();
  }
  if (username === '') throw new BerthError('USAGE', 'the username must not be empty');
  let password = opts.password;
  if (opts.passwordStdin) password = await readPassword();
  if (password === undefined) {
    if (!tty) throw new BerthError('USAGE', 'a password is needed: use --password-stdin (there is no terminal to ask on)');
    password = await askOnTerminal('Password: ', true);
  }
  if (password === '') throw new BerthError('USAGE', 'the password must not be empty');

  try {
    await checkRegistryLogin(host, { ...clientOpts, creds: { username, password } });
  } catch (e) {
    const why = isBerthError(e, 'UNAUTHORIZED') ? 'invalid username/password' : (e as Error).message;
    throw new BerthError(isBerthError(e) ? e.code : 'IO', `logging into "${key}": ${why}`, { cause: e });
  }
  await setCredentials(key, username, password, authOpts);
  process.stdout.write('Login Succeeded!\n');
}
