import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

/** The state file's content, or undefined when there is none (an older record, or a container being removed). */
export async function readStateFile(containerDir: string): Promise<ContainerState | undefined> {
  try {
    return JSON.parse(await readFile(stateFilePath(containerDir), 'utf8')) as ContainerState;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * The same, read synchronously: for listing every container, hundreds of small reads done in one
 * go cost a fraction of as many round trips through the thread pool.
 */
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
