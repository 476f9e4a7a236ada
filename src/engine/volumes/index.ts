// engine/volumes: named volumes and their data.
export { volumeDataDir } from './volumes.js';
export { createVolume, getVolume, findVolume, inspectVolume, removeVolumes, pruneVolumes, volumeUsers, type CreateVolumeOptions } from './volumes.js';
export { volumeFilters, type VolumeFilter } from './filters.js';
export { exportVolume, importVolume, volumeMountPoint } from './data.js';
export type { VolumeRecord } from '../../store/volumes.js';
