// berth's event log is podman's (file backend); the Docker API speaks of the same happenings with
// its own names and shape, as podman's compat API translates them.
import type { BerthEvent } from '../../engine/index.js';

const TO_DOCKER: Record<string, string> = { died: 'die', remove: 'destroy', exec_died: 'exec_die' };
const TO_PODMAN: Record<string, string> = { die: 'died', destroy: 'remove', exec_die: 'exec_died' };

export const podmanEventName = (docker: string) => TO_PODMAN[docker] ?? docker;

/** One Docker event (`/events` line); undefined for what Docker has no event type for. */
export function dockerEvent(e: BerthEvent, nanos: bigint) {
  const type = e.Type === 'system' ? 'daemon' : e.Type;
  let action = TO_DOCKER[e.Status] ?? e.Status;
  // An image removed is Docker's `delete`, a volume's or network's `destroy`.
  if (e.Type === 'image' && e.Status === 'remove') action = 'delete';
  if (e.Status === 'health_status' && e.HealthStatus) action = `health_status: ${e.HealthStatus}`;
  const attributes: Record<string, string> = { ...(e.Attributes ?? {}) };
  if (e.Type === 'container') {
    if (e.Image) attributes.image = e.Image;
    if (e.Name) attributes.name = e.Name;
    if (e.Status === 'died') attributes.exitCode = String(e.ContainerExitCode ?? 0);
  } else if (e.Type === 'network') {
    attributes.name = e.Network ?? e.Name ?? '';
    if (e.Status === 'connect' || e.Status === 'disconnect') attributes.container = e.ID ?? '';
  } else if (e.Name) attributes.name = e.Name;
  const id = e.Type === 'network' ? (e.Network ?? e.ID ?? '') : e.Type === 'volume' ? (e.Name ?? e.ID ?? '') : (e.ID ?? '');
  return {
    // The fields before API 1.22, which docker-py and compose 1.x still read.
    ...(e.Type === 'container' ? { status: action, id, from: e.Image ?? '' } : {}),
    Type: type,
    Action: action,
    Actor: { ID: id, Attributes: attributes },
    scope: 'local',
    time: Number(nanos / 1_000_000_000n),
    // Nanoseconds since 1970 pass 2^53: written as the exact integer, not a rounded double.
    timeNano: rawJson(nanos.toString()),
  };
}

const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
