// What `inspect` needs for containers and volumes, loaded only when a name is not an image.
export { findContainer, inspectContainer, latestContainer, syncContainers } from '../../engine/containers/index.js';
export { findVolume, inspectVolume } from '../../engine/volumes/index.js';
