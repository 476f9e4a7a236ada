// engine/containers: what callers do with containers. The modules behind it are the engine's own;
// nothing outside engine/ imports them directly.
export { createContainer, type CreateOptions } from './create.js';
export { logDriverOf } from './process-config.js';
export { startContainer, stopContainer, cleanupContainer, removeContainer, getContainer, type StartHooks } from './lifecycle.js';
export { killContainer } from './kill.js';
export { pauseContainer, unpauseContainer } from './pause.js';
export { waitContainer } from './wait.js';
export { renameContainer } from './rename.js';
export { runtimeFor } from './current.js';
export { berthCommand } from './exit-command.js';
export { syncContainers, waitForExitFile } from './state.js';
export { dependentContainers, findContainer, requireContainer, latestContainer } from './lookup.js';
export { validateName as validateContainerName } from './names.js';
export { containerPaths, type ContainerPaths } from './paths.js';
export { execProcessSpec, withProcessFile, type ExecOptions, type ProcessSpec } from './exec.js';
export { inspectContainer } from './inspect.js';
export { publishedPorts, networkSettings } from './inspect-network.js';
export type { PortMapping } from '../../network/types.js';
export { checkHealth, readHealth, type HealthFlags, type HealthState, type HealthStatus } from './health.js';
export { commitContainer, type CommitOptions } from './commit.js';
export { copyFiles, parseCopyLocation, statContainerPath, type CopyLocation, type ContainerPathStat } from './copy-files.js';
export { mountContainer, unmountContainer, withRootfs, containerChanges, type Change } from './filesystem.js';
export { pruneContainers, containerPruneFilter } from './prune.js';
export { filterContainers, type FilterContext } from './filters.js';
export { containerTop, DEFAULT_TOP_DESCRIPTORS, isTopDescriptorList } from './top.js';
export { waitForCondition, type WaitCondition } from './wait-condition.js';
export { resizeContainerTty } from './tty-resize.js';
export { containerSizes } from './size.js';
export { superviseCleanup } from './supervise.js';
export { updateContainer, type UpdateOptions, type UpdateTuningFlags } from './update.js';
// run, start -a, attach and exec for any caller, with the caller's stdio streams.
export { runContainer, startAttached, attachContainer, type RunOptions, type AttachedRunOptions, type RunResult, type SignalProxy } from './run.js';
export { execInContainer, type ExecOptions as ExecRunOptions, type ExecResult } from './exec-run.js';
export { processStdio, type ContainerStdio } from './attach.js';
export { parseDetachKeys, DEFAULT_DETACH_KEYS } from './detach-keys.js';
export type { ContainerRecord } from '../../store/containers.js';
// What the CLI shows of a container: its log, its ports, signals by name, the tuning flags.
export { parseLogChunk, tailEntries, type LogEntry } from '../../runtime/k8s-log.js';
export { formatPortsForPs, portCommandLines } from '../../network/port-output.js';
export { parseSignal } from '../../runtime/signals.js';
export type { TuningFlags } from '../../runtime/tuning.js';
// `cp CONTAINER:PATH -`: a directory as a tar stream.
export { tarDirectory } from '../../archive/diff.js';
export { containerTarOptions } from './userns.js';
// The Docker API's streams: attach before a start, resize, the log as entries, stats readings, exec sessions.
export { attachStreams, resizeContainer, type StreamAttach, type StreamAttachOptions } from './attach-streams.js';
export { readContainerLog, type LogReadOptions } from './logs.js';
export { readContainerStats, hostMemory, type StatsReading, type InterfaceCounters } from './stats.js';
export { setTerminalSize as resizeProcessTerminal } from '../../runtime/pty.js';
