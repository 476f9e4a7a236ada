// The Docker Engine API versions berth answers: 1.24 (Docker 1.12, the oldest docker-py and
// docker-compose 1.x speak) to 1.47 (Docker 27). A request names its version in a `/vX.Y` prefix or
// none, which means the newest.
export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.47';

function compare(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** Whether the request's API version is at least `v` (a handler's switch between old and new shapes). */
export const versionAtLeast = (requested: string, v: string) => compare(requested, v) >= 0;

export type VersionedPath = { version: string; path: string } | { error: string };

/** Splits `/v1.41/containers/json?all=1` into the version and `/containers/json?all=1`; Docker's words for a version out of range. */
export function splitApiVersion(url: string): VersionedPath {
  const m = /^\/v(\d+\.\d+)(\/.*)?$/.exec(url.split('?', 1)[0]!);
  if (!m) return { version: MAX_API_VERSION, path: url };
  const version = m[1]!;
  if (compare(version, MIN_API_VERSION) < 0) {
    return {
      error: `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    };
  }
  if (compare(version, MAX_API_VERSION) > 0) return { error: `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}` };
  return { version, path: url.slice(version.length + 2) || '/' };
}
