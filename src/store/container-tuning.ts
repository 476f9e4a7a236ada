/**
 * The parts of a container's record that the newer `run`/`create` flags fill (cgroup resources,
 * host namespaces, sysctls, umask, OOM score, /dev/shm's size, devices): the record keeps them in
 * the very shapes the runtime applies to config.json at every start.
 */
export type { BlkioThrottleKind, ContainerDevice, ContainerTuning, DeviceRate, DeviceRule } from '../runtime/tuning-types.js';
