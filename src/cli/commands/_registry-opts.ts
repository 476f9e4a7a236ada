import { BerthError } from '../../util/errors.js';

/** The registry flags pull, push and login share (podman's spelling). */
export interface RegistryFlags {
  /** `--tls-verify[=bool]`: commander hands over true, or the string after '='. */
  tlsVerify?: boolean | string;
  authfile?: string;
  certDir?: string;
  /** `--creds user[:password]` */
  creds?: string;
}

export function parseTlsVerify(v: boolean | string | undefined): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new BerthError('USAGE', `invalid --tls-verify value ${JSON.stringify(v)}: expected true or false`);
}

export function parseCreds(v: string | undefined): { username: string; password: string } | undefined {
  if (v === undefined) return undefined;
  const i = v.indexOf(':');
  if (v === '' || i === 0) throw new BerthError('USAGE', 'credentials must be given as USERNAME[:PASSWORD]');
  if (i < 0) throw new BerthError('USAGE', '--creds: a password is needed (USERNAME:PASSWORD); berth does not prompt for it');
  return { username: v.slice(0, i), password: v.slice(i + 1) };
}

/** RegistryOptions from the flags (only the ones given). */
export function registryOptions(f: RegistryFlags): { tlsVerify?: boolean; authfile?: string; certDir?: string; creds?: { username: string; password: string } } {
  const tlsVerify = parseTlsVerify(f.tlsVerify);
  const creds = parseCreds(f.creds);
  return {
    ...(tlsVerify !== undefined ? { tlsVerify } : {}),
    ...(f.authfile ? { authfile: f.authfile } : {}),
    ...(f.certDir ? { certDir: f.certDir } : {}),
    ...(creds ? { creds } : {}),
  };
}
