// GET /system/df's entries in Docker's shapes: containers with their sizes, volumes with their
// UsageData (image entries are image-json.ts's summaries with SharedSize and Containers counted).
import type { ContainerRecord, VolumeRecord } from '../../engine/index.js';

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000) || 0;

/** Docker's state word for berth's container status (Docker has no "stopping"). */
const dockerState = (status: string): string => (status === 'stopping' ? 'running' : status);

/** The Status column's words, without the times the list's own conversion adds. */
function statusText(c: ContainerRecord): string {
  const state = dockerState(c.state.status);
  return state === 'exited' ? `Exited (${c.state.exitCode})` : state === 'running' ? 'Up' : state[0]!.toUpperCase() + state.slice(1);
}

/** A container as system/df lists it: the list's summary, with SizeRw (its own layer) and SizeRootFs (with the image's). */
export function containerUsage(c: ContainerRecord, sizeRw: number, imageSize: number): Record<string, unknown> {
  const command = [...(c.config.entrypoint ?? []), ...(c.config.command ?? [])].join(' ');
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.imageName,
    ImageID: c.image,
    Command: command,
    Created: seconds(c.created),
    Ports: [],
    SizeRw: sizeRw,
    SizeRootFs: sizeRw + imageSize,
    Labels: c.config.labels ?? {},
    State: dockerState(c.state.status),
    Status: statusText(c),
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

/** A volume with its UsageData: the bytes it holds and how many containers mount it. */
export function volumeUsage(v: VolumeRecord, mountpoint: string, size: number, refCount: number): Record<string, unknown> {
  return {
    CreatedAt: v.created,
    Driver: 'local',
    Labels: v.labels,
    Mountpoint: mountpoint,
    Name: v.name,
    Options: v.options,
    Scope: 'local',
    UsageData: { Size: size, RefCount: refCount },
  };
}
