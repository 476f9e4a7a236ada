// The container filters are the engine's (the API server's /containers/json takes the same ones).
export { filterContainers } from '../engine/containers/index.js';
