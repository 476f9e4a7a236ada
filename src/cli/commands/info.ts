import { withStore } from '../../engine/index.js';
import { systemInfo } from '../../engine/system/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { versionInfo } from './version.js';

/** podman's Go field names where they are not the JSON name with its first letter raised. */
const GO_NAMES: Record<string, string> = {
  apparmorEnabled: 'AppArmorEnabled',
  capabilities: 'DefaultCapabilities',
  cgroupVersion: 'CgroupsVersion',
  cpuUtilization: 'CPUUtilization',
  cpus: 'CPUs',
  gidmap: 'GIDMap',
  idMappings: 'IDMappings',
  ociRuntime: 'OCIRuntime',
  os: 'OS',
  seccompEnabled: 'SECCOMPEnabled',
  seccompProfilePath: 'SECCOMPProfilePath',
  selinuxEnabled: 'SELinuxEnabled',
  slirp4netns: 'Slirp4NetNS',
  uidmap: 'UIDMap',
};

/** Go maps, not structs, in podman's Info: their keys stay as they are. */
const MAPS = new Set(['registries', 'graphOptions', 'graphStatus']);

/**
 * The info as the Go structs a podman template sees (`{{.Host.OCIRuntime.Path}}`,
 * `{{.Store.GraphRoot}}`); `{{json .Store}}` still prints the JSON names, as Go's json tags do.
 */
export function goView(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[GO_NAMES[key] ?? key.charAt(0).toUpperCase() + key.slice(1)] = MAPS.has(key) ? v : goView(v);
  }
  Object.defineProperty(out, 'toJSON', { value: () => value, enumerable: false });
  return out;
}

/** `berth info`: podman's YAML layout by default, `--format json`, or a Go template over podman's field names. */
export async function run(g: GlobalOptions, opts: { format?: string }): Promise<void> {
  const info = await withStore(engineOptions(g), (store) => systemInfo(store, { ...versionInfo(), Os: process.platform }));
  if (!opts.format) {
    const { goYaml } = await import('./_yaml.js');
    process.stdout.write(goYaml(info));
    return;
  }
  if (opts.format === 'json') {
    // podman indents info's JSON by two spaces, unlike its lists.
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return;
  }
  const { formatOutput } = await import('../output/format.js');
  process.stdout.write(formatOutput(opts.format, [goView(info) as object], { defaultTable: '', headers: {}, json: () => info, name: 'info' }));
}
