/**
 * Docker credential helpers (`docker-credential-<name> get|store|erase`), spoken to as
 * docker-credential-helpers' client does: the request on stdin, JSON on stdout, a non-zero exit
 * with "credentials not found in native keychain" meaning "nothing stored".
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../util/errors.js';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth2 refresh token to exchange for a bearer token; username/password are then unused. */
  identityToken: string;
}

/** The user name a helper returns when its secret is an identity token. */
export const TOKEN_USERNAME = '<token>';
const NOT_FOUND = 'credentials not found in native keychain';

export function helperProgram(helper: string): string {
  return `docker-credential-${helper}`;
}

interface HelperRun {
  code: number;
  stdout: string;
  stderr: string;
}

function run(helper: string, action: 'get' | 'store' | 'erase', input: string, env: Record<string, string | undefined>): Promise<HelperRun> {
  const program = helperProgram(helper);
  if (helper === '' || helper.includes('/')) {
    return Promise.reject(new BerthError('USAGE', `invalid credential helper name ${JSON.stringify(helper)}`));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // a helper that exits without reading stdin is judged by its exit code
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(
          new BerthError('USAGE', `credential helper ${program} not found in $PATH (install it or remove it from credHelpers/credsStore/credential-helpers)`, {
            cause: e,
          }),
        );
      } else {
        reject(new BerthError('IO', `running credential helper ${program}: ${e.message}`, { cause: e }));
      }
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(input);
  });
}

function failure(helper: string, action: string, r: HelperRun): BerthError {
  const text = (r.stdout.trim() || r.stderr.trim()).split('\n')[0] || `exit status ${r.code}`;
  return new BerthError('IO', `credential helper ${helperProgram(helper)} ${action}: ${text}`);
}

/** `get`: the credentials the helper holds for `serverURL`, or undefined when it has none. */
export async function credentialHelperGet(helper: string, serverURL: string, env: Record<string, string | undefined>): Promise<Credentials | undefined> {
  const r = await run(helper, 'get', serverURL, env);
  if (r.code !== 0) {
    if (r.stdout.trim() === NOT_FOUND || r.stderr.trim() === NOT_FOUND) return undefined;
    throw failure(helper, 'get', r);
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch (e) {
    throw new BerthError('IO', `credential helper ${helperProgram(helper)} get: invalid JSON output`, { cause: e });
  }
  const username = typeof parsed.Username === 'string' ? parsed.Username : '';
  const secret = typeof parsed.Secret === 'string' ? parsed.Secret : '';
  if (username === TOKEN_USERNAME) return { username: '', password: '', identityToken: secret };
  if (username === '' && secret === '') return undefined;
  return { username, password: secret, identityToken: '' };
}

/** `store`: hands the helper a username and secret for `serverURL`. */
export async function credentialHelperStore(
  helper: string,
  serverURL: string,
  username: string,
  secret: string,
  env: Record<string, string | undefined>,
): Promise<void> {
  const r = await run(helper, 'store', JSON.stringify({ ServerURL: serverURL, Username: username, Secret: secret }), env);
  if (r.code !== 0) throw failure(helper, 'store', r);
}

/** `erase`: returns false when the helper had nothing for `serverURL`. */
export async function credentialHelperErase(helper: string, serverURL: string, env: Record<string, string | undefined>): Promise<boolean> {
  const r = await run(helper, 'erase', serverURL, env);
  if (r.code === 0) return true;
  if (r.stdout.trim() === NOT_FOUND || r.stderr.trim() === NOT_FOUND) return false;
  throw failure(helper, 'erase', r);
}
