import { readFileSync } from 'node:fs';
import type { CreateOptions, HealthFlags } from '../../engine/containers/index.js';
import { BerthError } from '../../util/errors.js';
import { log } from '../log.js';
import { pullLines } from '../progress.js';
import { registryOptions, type RegistryFlags } from './_registry-opts.js';
import { moreCreateOptions, type MoreCreateFlags } from './_create-opts-more.js';

/** The flags `run` and `create` share, as commander hands them over. */
export interface CreateFlags extends RegistryFlags, Omit<HealthFlags, 'noHealthcheck'>, MoreCreateFlags {
  /** False with --no-healthcheck (commander's negated flag). */
  healthcheck?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  entrypoint?: string;
  user?: string;
  workdir?: string;
  hostname?: string;
  addHost: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  dnsOpt?: string[];
  interactive?: boolean;
  tty?: boolean;
  label: string[];
  annotation: string[];
  rm?: boolean;
  replace?: boolean;
  restart?: string;
  runtime?: string | undefined;
  network?: string[];
  net?: string[];
  volume: string[];
  mount: string[];
  tmpfs: string[];
  privileged?: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  readOnly?: boolean;
  init?: boolean;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  ulimit: string[];
  stopSignal?: string;
  stopTimeout?: string;
  pull?: string;
  quiet?: boolean;
  secret?: string[];
  pod?: string;
}

/** `--pod-id-file`: the pod `pod create --pod-id-file` wrote there (`--pod` wins, as in podman). */
function podFromIdFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message;
    throw new BerthError('USAGE', `reading pod ID file: open ${file}: ${why}`);
  }
}

export function createOptions(image: string, command: string[], f: CreateFlags): CreateOptions {
  let stopTimeout: number | undefined;
  if (f.stopTimeout !== undefined) {
    stopTimeout = Number(f.stopTimeout);
    if (!Number.isInteger(stopTimeout) || stopTimeout < 0)
      throw new BerthError('USAGE', `invalid --stop-timeout "${f.stopTimeout}": must be a whole number of seconds`);
  }
  const opt = <K extends keyof CreateOptions>(key: K, value: CreateOptions[K] | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    image,
    command,
    env: f.env,
    envFile: f.envFile,
    labels: f.label,
    annotations: f.annotation,
    volumes: f.volume,
    mounts: f.mount,
    tmpfs: f.tmpfs,
    // String slices in podman (cobra): one flag may carry several values, comma-separated.
    addHosts: f.addHost.flatMap((v) => v.split(',')),
    dns: f.dns.flatMap((v) => v.split(',')),
    dnsSearch: f.dnsSearch.flatMap((v) => v.split(',')),
    dnsOptions: [...f.dnsOption, ...(f.dnsOpt ?? [])].flatMap((v) => v.split(',')),
    capAdd: f.capAdd,
    capDrop: f.capDrop,
    securityOpt: f.securityOpt,
    ulimits: f.ulimit,
    tty: f.tty ?? false,
    stdin: f.interactive ?? false,
    autoRemove: f.rm ?? false,
    ...(f.logDriver !== undefined ? { logDriver: f.logDriver } : {}),
    privileged: f.privileged ?? false,
    readOnly: f.readOnly ?? false,
    init: f.init ?? false,
    replace: f.replace ?? false,
    ...opt('name', f.name),
    ...opt('entrypoint', f.entrypoint),
    ...opt('user', f.user),
    ...opt('workdir', f.workdir),
    ...opt('hostname', f.hostname),
    ...opt('restart', f.restart),
    ...opt('runtime', f.runtime),
    ...(f.network || f.net ? { network: [...(f.network ?? []), ...(f.net ?? [])] } : {}),
    ...opt('memory', f.memory),
    ...opt('cpus', f.cpus),
    ...opt('pidsLimit', f.pidsLimit),
    ...opt('stopSignal', f.stopSignal),
    ...opt('stopTimeout', stopTimeout),
    ...opt('pull', f.pull),
    ...opt('pod', f.pod ?? podFromIdFile(f.podIdFile)),
    health: {
      healthCmd: f.healthCmd,
      healthInterval: f.healthInterval,
      healthRetries: f.healthRetries,
      healthStartPeriod: f.healthStartPeriod,
      healthTimeout: f.healthTimeout,
      healthOnFailure: f.healthOnFailure,
      noHealthcheck: f.healthcheck === false,
    },
    pullOptions: { ...registryOptions(f), ...(f.quiet ? {} : { onProgress: pullLines() }) },
    ...(f.secret?.length ? { secrets: f.secret } : {}),
    createCommand: ['berth', ...process.argv.slice(2)],
    warn: (message: string) => log('warn', message),
    ...(f.quiet ? {} : { onPull: (name: string) => process.stderr.write(`Resolving "${name}"...\n`) }),
    ...moreCreateOptions(f, command),
  };
}
