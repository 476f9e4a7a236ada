import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { BerthError } from '../util/errors.js';
import type { BlkioThrottleKind, ContainerDevice, DeviceRate } from './tuning-types.js';
import { parseSize } from './options.js';
import { hostDevices, type HostDevice } from './host.js';

/**
 * `--device HOST[:CONTAINER][:PERMISSIONS]`: a host device node made in the container's /dev and
 * allowed by its device cgroup with the given access (r, w, m; rwm by default), as podman does.
 */

const isPermissions = (s: string) => /^[rwm]{1,3}$/.test(s) && new Set(s).size === s.length;

export function parseDeviceFlag(spec: string): { hostPath: string; containerPath: string; permissions: string } {
  const parts = spec.split(':');
  const hostPath = parts[0] ?? '';
  if (parts.length > 3 || hostPath === '') throw new BerthError('USAGE', `invalid device specification: ${spec}`);
  // HOST:PERMISSIONS when the second part reads as permissions, as podman takes it.
  const secondIsMode = parts.length === 2 && isPermissions(parts[1]!);
  const containerPath = (secondIsMode ? undefined : parts[1]) || hostPath;
  const permissions = (secondIsMode ? parts[1] : parts[2]) ?? 'rwm';
  if (!isPermissions(permissions)) throw new BerthError('USAGE', `invalid device mode: ${permissions}`);
  if (!hostPath.startsWith('/')) throw new BerthError('USAGE', `invalid device specification ${spec}: the host path must be absolute`);
  if (!containerPath.startsWith('/')) throw new BerthError('USAGE', `invalid device specification ${spec}: the container path must be absolute`);
  return { hostPath, containerPath: posix.normalize(containerPath), permissions };
}

/** The flag's devices as they are on the host now; a directory gives every device under it. */
export async function resolveDevices(specs: string[]): Promise<ContainerDevice[]> {
  const out: ContainerDevice[] = [];
  for (const spec of specs) {
    const d = parseDeviceFlag(spec);
    const st = await stat(d.hostPath).catch((e: Error) => {
      throw new BerthError('USAGE', `stat ${d.hostPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : e.message}`, {
        cause: e,
      });
    });
    const nodes = st.isDirectory() ? await hostDevices(d.hostPath) : [toNode(d.hostPath, st)];
    for (const n of nodes) {
      if (!n) throw new BerthError('USAGE', `${d.hostPath} is not a device`);
      const { path, ...node } = n;
      const containerPath = st.isDirectory() ? posix.join(d.containerPath, posix.relative(d.hostPath, path)) : d.containerPath;
      out.push({ hostPath: path, containerPath, permissions: d.permissions, node });
    }
  }
  return out;
}

function toNode(path: string, st: Awaited<ReturnType<typeof stat>>): HostDevice | undefined {
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  const rdev = BigInt(st.rdev);
  return {
    path,
    type: st.isCharacterDevice() ? 'c' : 'b',
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n)),
    fileMode: Number(st.mode) & 0o777,
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

/** config.json's linux.devices entries and the device cgroup rules that allow them. */
export function ociDevices(devices: ContainerDevice[]): {
  nodes: HostDevice[];
  rules: { allow: boolean; type: string; major: number; minor: number; access: string }[];
} {
  return {
    nodes: devices.map((d) => ({ path: d.containerPath, ...d.node })),
    rules: devices.map((d) => ({ allow: true, type: d.node.type, major: d.node.major, minor: d.node.minor, access: d.permissions })),
  };
}

/** The flags of block IO throttling, by the OCI field each fills. */
export const THROTTLE_FLAGS: Record<BlkioThrottleKind, { flag: string; bytes: boolean }> = {
  throttleReadBpsDevice: { flag: '--device-read-bps', bytes: true },
  throttleWriteBpsDevice: { flag: '--device-write-bps', bytes: true },
  throttleReadIOPSDevice: { flag: '--device-read-iops', bytes: false },
  throttleWriteIOPSDevice: { flag: '--device-write-iops', bytes: false },
};

/** `--device-read-bps /dev/vda:1mb` (and iops): the block device's numbers and the rate. */
export async function resolveThrottles(flags: Partial<Record<BlkioThrottleKind, string[]>>): Promise<Partial<Record<BlkioThrottleKind, DeviceRate[]>>> {
  const out: Partial<Record<BlkioThrottleKind, DeviceRate[]>> = {};
  for (const [kind, { flag, bytes }] of Object.entries(THROTTLE_FLAGS) as [BlkioThrottleKind, { flag: string; bytes: boolean }][]) {
    for (const spec of flags[kind] ?? []) {
      const colon = spec.lastIndexOf(':');
      if (colon <= 0) throw new BerthError('USAGE', `invalid ${flag} "${spec}": expected DEVICE:RATE`);
      const path = spec.slice(0, colon);
      const rateText = spec.slice(colon + 1);
      const rate = bytes ? parseSize(rateText, flag) : Number(rateText);
      if (!Number.isSafeInteger(rate) || rate < 0 || rateText === '') throw new BerthError('USAGE', `invalid ${flag} "${spec}": invalid rate ${rateText}`);
      const st = await stat(path).catch((e: Error) => {
        throw new BerthError('USAGE', `could not parse throttle device at ${path}: no such file or directory`, { cause: e });
      });
      const node = toNode(path, st);
      if (node?.type !== 'b') throw new BerthError('USAGE', `invalid ${flag} "${spec}": ${path} is not a block device`);
      (out[kind] ??= []).push({ major: node.major, minor: node.minor, rate });
    }
  }
  return out;
}
