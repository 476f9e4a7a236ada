// api: the Docker Engine API server (`berth system service`), over the engine's faces.
export { startService, type RunningService, type ServiceOptions } from './service.js';
export { defaultServiceSocket, parseServiceUri, formatServiceAddress, type ServiceAddress } from './uri.js';
