/** Kept apart from package.json so that `berth version` reads no file. Bumped with each release. */
export const VERSION = '0.1.0';
export const API_VERSION = '0.1.0';
