import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { errnoCode } from '../util/errors.js';
import { newContainerState, type ContainerRecord, type ContainerState, type StoredContainer } from './containers.js';

/**
 * Each container's changing state (status, PIDs, exit code, times, what is mounted and set up) in
 * its own small file, `containers/<id>/state.json`, rewritten whole under that container's lock:
 * a start, stop or cleanup touches one container, never the whole `containers.json`.
 */
export function stateFilePath(containerDir: string): string {
  return join(containerDir, 'state.json');
}

/**
 * The state file's content, or undefined when there is none (an older record, or a container being
 * removed): readStateFileSync's, for callers on the async path. One synchronous read of a small
 * file costs less than the thread pool's readFile, four round trips.
 */
export async function readStateFile(containerDir: string): Promise<ContainerState | undefined> {
  return readStateFileSync(containerDir);
}

/** The state file's content, read synchronously (a listing reads hundreds at once). */
export function readStateFileSync(containerDir: string): ContainerState | undefined {
  try {
    return JSON.parse(readFileSync(stateFilePath(containerDir), 'utf8')) as ContainerState;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * Caller holds the container's lock (or the container is not recorded yet). Replaced by rename
 * either way; synced to disk unless `durable` is false: a volatile container's (--rm, a build's
 * RUN) is thrown away with it, and a power loss takes the container's writable layer too.
 */
export async function writeStateFile(containerDir: string, state: ContainerState, durable = true): Promise<void> {
  await writeFileAtomic(stateFilePath(containerDir), JSON.stringify(state), 0o644, durable);
}

/**
 * A record with its state: the file's when there is one, else the one an older berth kept in the
 * record; a record with neither is a container whose directory rm has already taken away.
 */
export function withState(record: StoredContainer, file: ContainerState | undefined): ContainerRecord {
  return { ...record, state: file ?? record.state ?? { ...newContainerState(), status: 'removing' } };
}
