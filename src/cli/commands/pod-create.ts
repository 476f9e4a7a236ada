import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { withStore } from '../../engine/index.js';
import { createPod, listPodRecords, removePod } from '../../engine/pods/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { log } from '../log.js';

const warn = (message: string) => log('warn', message);

/** `--infra`, `--infra=false`: pflag's boolean. */
function infraFlag(v: string | boolean | undefined): boolean {
  if (v === undefined || v === true) return true;
  if (v === false) return false;
  if (/^(true|1)$/i.test(v)) return true;
  if (/^(false|0)$/i.test(v)) return false;
  throw new BerthError('USAGE', `invalid argument "${v}" for "--infra" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/** `--infra-command`: a JSON array, or words split at spaces, as podman takes it. */
function infraCommand(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  if (v.startsWith('[')) {
    try {
      const parsed = JSON.parse(v) as unknown;
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
    } catch {
      // words, as below
    }
  }
  return v.split(' ').filter((w) => w !== '');
}

export async function runCreate(
  g: GlobalOptions,
  nameArg: string | undefined,
  f: {
    name?: string;
    publish: string[];
    network: string[];
    share?: string;
    infra?: string | boolean;
    infraCommand?: string;
    infraName?: string;
    hostname?: string;
    addHost: string[];
    dns: string[];
    dnsSearch: string[];
    dnsOption: string[];
    label: string[];
    userns?: string;
    cpus?: string;
    memory?: string;
    cpuShares?: string;
    cpusetCpus?: string;
    podIdFile?: string;
    exitPolicy?: string;
    replace?: boolean;
  },
): Promise<void> {
  if (nameArg !== undefined && f.name !== undefined && nameArg !== f.name)
    throw new BerthError('USAGE', 'cannot specify --name and a pod name as an argument at the same time');
  const name = f.name ?? nameArg;
  const command = infraCommand(f.infraCommand);
  // podman's refusal: another pod may be using the file.
  if (f.podIdFile !== undefined && existsSync(f.podIdFile))
    throw new BerthError('USAGE', `pod id file exists. Ensure another pod is not using it or delete ${f.podIdFile}`);
  const resources = {
    ...(f.cpus !== undefined ? { cpus: f.cpus } : {}),
    ...(f.memory !== undefined ? { memory: f.memory } : {}),
    ...(f.cpuShares !== undefined ? { cpuShares: f.cpuShares } : {}),
    ...(f.cpusetCpus !== undefined ? { cpusetCpus: f.cpusetCpus } : {}),
  };
  await withStore(engineOptions(g), async (store) => {
    // --replace: the pod of exactly that name (never one whose ID merely starts so) goes first, with its containers, as podman's does.
    const replaced = f.replace && name !== undefined ? (await listPodRecords(store)).find((p) => p.name === name) : undefined;
    if (replaced) await removePod(store, replaced.id, { force: true, timeout: 0, warn });
    const pod = await createPod(store, {
      ...(name !== undefined ? { name } : {}),
      publish: f.publish.flatMap((p) => p.split(',')),
      network: f.network,
      ...(f.share !== undefined ? { share: f.share } : {}),
      infra: infraFlag(f.infra),
      ...(command ? { infraCommand: command } : {}),
      ...(f.infraName !== undefined ? { infraName: f.infraName } : {}),
      ...(f.hostname !== undefined ? { hostname: f.hostname } : {}),
      addHosts: f.addHost.flatMap((v) => v.split(',')),
      dns: f.dns.flatMap((v) => v.split(',')),
      dnsSearch: f.dnsSearch.flatMap((v) => v.split(',')),
      dnsOptions: f.dnsOption.flatMap((v) => v.split(',')),
      labels: f.label,
      ...(f.userns !== undefined ? { userns: f.userns } : {}),
      createCommand: ['berth', ...process.argv.slice(2)],
      resources,
      ...(f.exitPolicy !== undefined ? { exitPolicy: f.exitPolicy } : {}),
      warn,
    });
    if (f.podIdFile !== undefined) await writeFile(f.podIdFile, pod.id, { flag: 'wx' });
    process.stdout.write(`${pod.id}\n`);
  });
}
