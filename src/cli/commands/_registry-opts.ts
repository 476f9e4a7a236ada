import { BerthError } from '../../util/errors.js';

/** The registry flags pull, push and login share (podman's spelling). */
export interface RegistryFlags {
  /** `--tls-verify[=bool]`: commander hands over true, or the string after '='. */
  tlsVerify?: boolean | string;
  authfile?: string;
  certDir?: string;
  /** `--creds user[:password]` */
  creds?: string;
  /** `--signature-policy FILE`, `--registries.d DIR`: the trust policy where images enter (pull, run, create, build). */
  signaturePolicy?: string;
  'registries.d'?: string;
}

export function parseTlsVerify(v: boolean | string | undefined): boolean | undefined {
  return v === undefined ? undefined : parseBool(v, '--tls-verify');
}

/** A `--flag[=bool]` value: true as given bare, or the string after '='. */
export function parseBool(v: boolean | string, flag: string): boolean {
  if (typeof v === 'boolean') return v;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new BerthError('USAGE', `invalid ${flag} value ${JSON.stringify(v)}: expected true or false`);
}

export function parseCreds(v: string | undefined): { username: string; password: string } | undefined {
  if (v === undefined) return undefined;
  const i = v.indexOf(':');
  if (v === '' || i === 0) throw new BerthError('USAGE', 'credentials must be given as USERNAME[:PASSWORD]');
  if (i < 0) throw new BerthError('USAGE', '--creds: a password is needed (USERNAME:PASSWORD); berth does not prompt for it');
  return { username: v.slice(0, i), password: v.slice(i + 1) };
}

/** RegistryOptions from the flags (only the ones given). */
export function registryOptions(f: RegistryFlags): {
  tlsVerify?: boolean;
  authfile?: string;
  certDir?: string;
  creds?: { username: string; password: string };
  signaturePolicy?: string;
  registriesDir?: string;
} {
  const tlsVerify = parseTlsVerify(f.tlsVerify);
  const creds = parseCreds(f.creds);
  return {
    ...(tlsVerify !== undefined ? { tlsVerify } : {}),
    ...(f.authfile ? { authfile: f.authfile } : {}),
    ...(f.certDir ? { certDir: f.certDir } : {}),
    ...(creds ? { creds } : {}),
    ...(f.signaturePolicy !== undefined ? { signaturePolicy: f.signaturePolicy } : {}),
    ...(f['registries.d'] !== undefined ? { registriesDir: f['registries.d'] } : {}),
  };
}

/** skopeo's per-end flags (--src-tls-verify, --dest-creds, ...), with the unprefixed ones for both ends. */
export interface TwoEndedRegistryFlags extends Pick<RegistryFlags, 'tlsVerify' | 'authfile'> {
  srcTlsVerify?: boolean | string;
  destTlsVerify?: boolean | string;
  srcAuthfile?: string;
  destAuthfile?: string;
  srcCreds?: string;
  destCreds?: string;
  srcCertDir?: string;
  destCertDir?: string;
}

/** RegistryOptions for one end of a copy or sync: its own flag when given, else the shared one. */
export function endRegistryOptions(f: TwoEndedRegistryFlags, end: 'src' | 'dest'): ReturnType<typeof registryOptions> {
  const tlsVerify = f[`${end}TlsVerify`] ?? f.tlsVerify;
  const authfile = f[`${end}Authfile`] ?? f.authfile;
  const creds = f[`${end}Creds`];
  const certDir = f[`${end}CertDir`];
  return registryOptions({
    ...(tlsVerify !== undefined ? { tlsVerify } : {}),
    ...(authfile ? { authfile } : {}),
    ...(creds ? { creds } : {}),
    ...(certDir ? { certDir } : {}),
  });
}

/** `--compression-format` / `--dest-compress-format`: gzip or zstd (zstd:chunked is not supported). */
export function compressionFormat(v: string | undefined, flag: string): 'gzip' | 'zstd' | undefined {
  if (v === undefined) return undefined;
  if (v === 'gzip' || v === 'zstd') return v;
  if (v === 'zstd:chunked') throw new BerthError('USAGE', `${flag} zstd:chunked is not supported: use gzip or zstd`);
  throw new BerthError('USAGE', `${flag} ${JSON.stringify(v)}: use gzip or zstd`);
}

/** `--compression-level N`: an integer (its range is checked against the format). */
export function compressionLevel(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new BerthError('USAGE', `${flag} ${JSON.stringify(v)}: expected a number`);
  return Number(v);
}
