import { authFileForWriting, listAuthKeys, normalizeLoginKey, removeCredentials, searchRegistries } from '../../engine/system/index.js';
import { registriesConf } from '../../engine/images/index.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import type { GlobalOptions } from '../context.js';

export interface LogoutFlags {
  all?: boolean;
  authfile?: string;
}

/** `berth logout REGISTRY` or `--all`: removes stored credentials. */
export async function run(_g: GlobalOptions, registry: string | undefined, opts: LogoutFlags): Promise<void> {
  const conf = await registriesConf();
  const authOpts = { ...(opts.authfile ? { authfile: opts.authfile } : {}), credentialHelpers: conf.credentialHelpers };
  if (opts.all) {
    if (registry) throw new BerthError('USAGE', '--all takes no registry');
    const path = authFileForWriting(authOpts).path;
    for (const { key } of (await listAuthKeys(authOpts)).filter((k) => k.path === path)) {
      await removeCredentials(key, authOpts).catch((e: unknown) => {
        if (!isBerthError(e, 'USAGE')) throw e;
      });
    }
    process.stdout.write('Removed login credentials for all registries\n');
    return;
  }
  const input = registry ?? searchRegistries(conf)[0];
  if (!input) throw new BerthError('USAGE', 'no registry given and no unqualified-search registries are configured');
  const key = normalizeLoginKey(input);
  try {
    await removeCredentials(key, authOpts);
  } catch (e) {
    if (isBerthError(e, 'USAGE') && /not logged in/.test(e.message)) throw new BerthError('USAGE', `not logged into ${key}`, { cause: e });
    throw e;
  }
  process.stdout.write(`Removed login credentials for ${key}\n`);
}
