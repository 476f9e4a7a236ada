import { resolve } from 'node:path';
import type { CreateOptions, TuningFlags } from '../../engine/containers/index.js';
import { BerthError } from '../../util/errors.js';
import { platformOf, type PlatformFlags } from './_platform-opts.js';
import { registryOptions, type RegistryFlags } from './_registry-opts.js';
import { refuseUnsupported, type RefusableFlags } from './_create-refusals.js';

/** The flags of create-flags-more.ts, as commander hands them over. */
export interface MoreCreateFlags extends TuningFlags, PlatformFlags, RefusableFlags, RegistryFlags {
  env: string[];
  disableContentTrust?: boolean;
  imageVolume?: string;
  volumesFrom?: string[];
  envHost?: boolean;
  envMerge?: string[];
  unsetenv?: string[];
  unsetenvAll?: boolean;
  httpProxy?: boolean | string;
  labelFile?: string[];
  groupAdd?: string[];
  tz?: string;
  initPath?: string;
  cidfile?: string;
  pidfile?: string;
  conmonPidfile?: string;
  timeout?: string;
  /** False with --no-hosts (commander's negated flag). */
  hosts?: boolean;
  readOnlyTmpfs?: boolean | string;
  device?: string[];
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  kernelMemory?: string;
  ip?: string;
  ip6?: string;
  macAddress?: string;
  networkAlias?: string[];
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
  subuidname?: string;
  subgidname?: string;
}

/** The proxy variables podman passes from the host unless --http-proxy=false. */
const PROXY_VARS = ['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy'];

const isFalse = (v: boolean | string | undefined) => v === false || (typeof v === 'string' && /^(false|0|no)$/i.test(v));

function proxyEnv(f: MoreCreateFlags): string[] {
  if (isFalse(f.httpProxy)) return [];
  if (f.httpProxy !== undefined && f.httpProxy !== true && !/^(true|1|yes)$/i.test(String(f.httpProxy))) {
    throw new BerthError('USAGE', `invalid --http-proxy value ${JSON.stringify(f.httpProxy)}: expected true or false`);
  }
  return PROXY_VARS.flatMap((k) => [k, k.toUpperCase()]).flatMap((k) => (process.env[k] !== undefined ? [`${k}=${process.env[k]}`] : []));
}

/** `--timeout SECONDS`: podman's unsigned seconds; 0 is no limit. */
function runTimeout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 2 ** 32 - 1)
    throw new BerthError('USAGE', `invalid argument "${v}" for "--timeout" flag: strconv.ParseUint: parsing "${v}": invalid syntax`);
  return Number(v) || undefined;
}

/** The CreateOptions of the newer flags; a flag berth cannot honour fails here, before anything is made. */
export function moreCreateOptions(f: MoreCreateFlags, command: string[]): Partial<CreateOptions> {
  refuseUnsupported(f, command);
  if (f.platform && (f.arch || f.os)) throw new BerthError('USAGE', '--platform option can only be specified if --arch and --os are not');
  if (f.kernelMemory !== undefined) process.stderr.write('WARN[0000] The --kernel-memory flag is no longer supported. This flag is a noop.\n');
  if (f.imageVolume !== undefined && !['bind', 'tmpfs', 'ignore'].includes(f.imageVolume)) {
    throw new BerthError('USAGE', `invalid image volume type "${f.imageVolume}". Pick one of bind, tmpfs, or ignore`);
  }
  const platform = platformOf(f);
  const proxy = proxyEnv(f);
  const throttle = (
    [
      ['throttleReadBpsDevice', f.deviceReadBps],
      ['throttleWriteBpsDevice', f.deviceWriteBps],
      ['throttleReadIOPSDevice', f.deviceReadIops],
      ['throttleWriteIOPSDevice', f.deviceWriteIops],
    ] as const
  ).filter(([, v]) => v?.length);
  const opt = <K extends keyof CreateOptions>(key: K, value: CreateOptions[K] | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    tuning: f,
    ...(proxy.length ? { env: [...proxy, ...f.env] } : {}),
    ...(platform ? { pullOptions: { ...registryOptions(f), platform } } : {}),
    ...(f.device?.length ? { devices: f.device } : {}),
    ...(throttle.length ? { blkioThrottle: Object.fromEntries(throttle) } : {}),
    ...(f.groupAdd?.length ? { groupAdd: f.groupAdd } : {}),
    ...(f.labelFile?.length ? { labelFiles: f.labelFile } : {}),
    ...(f.unsetenv?.length ? { unsetEnv: f.unsetenv } : {}),
    ...(f.envMerge?.length ? { envMerge: f.envMerge } : {}),
    ...(f.volumesFrom?.length ? { volumesFrom: f.volumesFrom } : {}),
    ...(f.envHost ? { envHost: true } : {}),
    ...(f.unsetenvAll ? { unsetEnvAll: true } : {}),
    ...(f.hosts === false ? { noHosts: true } : {}),
    ...(isFalse(f.readOnlyTmpfs) ? { readOnlyTmpfs: false } : {}),
    ...(f.networkAlias?.length ? { networkAlias: f.networkAlias.flatMap((v) => v.split(',')) } : {}),
    // A string slice in podman: `-p 80,443` is two.
    ...(f.publish?.length ? { publish: f.publish.flatMap((v) => v.split(',')) } : {}),
    ...(f.publishAll ? { publishAll: true } : {}),
    ...(f.expose?.length ? { expose: f.expose } : {}),
    ...(f.userns || f.uidmap?.length || f.gidmap?.length || f.subuidname || f.subgidname
      ? {
          userNamespace: {
            ...(f.userns !== undefined ? { userns: f.userns } : {}),
            uidmap: f.uidmap ?? [],
            gidmap: f.gidmap ?? [],
            ...(f.subuidname !== undefined ? { subuidname: f.subuidname } : {}),
            ...(f.subgidname !== undefined ? { subgidname: f.subgidname } : {}),
          },
        }
      : {}),
    ...opt('ip', f.ip),
    ...opt('ip6', f.ip6),
    ...opt('macAddress', f.macAddress),
    ...opt('tz', f.tz),
    ...opt('cidFile', f.cidfile),
    ...opt('timeoutSeconds', runTimeout(f.timeout)),
    // Absolute: a start may come from another directory (or from the API's service).
    ...opt('pidFile', f.pidfile === undefined ? undefined : resolve(f.pidfile)),
    ...opt('conmonPidFile', f.conmonPidfile === undefined ? undefined : resolve(f.conmonPidfile)),
    ...opt('initPath', f.initPath),
    ...opt('imageVolume', f.imageVolume as 'bind' | 'tmpfs' | 'ignore' | undefined),
  };
}
