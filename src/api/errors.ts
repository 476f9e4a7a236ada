// Errors as the Docker Engine API gives them: a JSON body `{"message": …}` and the status code that
// clients branch on (docker-py's NotFound for 404, the CLI's "Conflict" for 409, …).
import { BerthError, type ErrorCode } from '../util/errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  IMAGE_UNKNOWN: 404,
  CONTAINER_UNKNOWN: 404,
  VOLUME_UNKNOWN: 404,
  SECRET_UNKNOWN: 404,
  NETWORK_UNKNOWN: 404,
  CONTAINER_EXISTS: 409,
  VOLUME_EXISTS: 409,
  SECRET_EXISTS: 409,
  NETWORK_EXISTS: 409,
  IMAGE_IN_USE: 409,
  VOLUME_IN_USE: 409,
  NETWORK_IN_USE: 409,
  CONTAINER_STATE: 409,
  INVALID_REFERENCE: 400,
  USAGE: 400,
  DOCKERFILE_INVALID: 400,
  CONFIG_INVALID: 400,
  MANIFEST_INVALID: 400,
  ARCHIVE_INVALID: 400,
  PATH_ESCAPE: 400,
  UNAUTHORIZED: 401,
};

/** An error a handler raises on purpose with the status the Docker API uses for it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (message: string) => new ApiError(404, message);
export const badRequest = (message: string) => new ApiError(400, message);
export const conflict = (message: string) => new ApiError(409, message);

/** The status and body for any error a handler let through; anything unexpected is a 500 with its message. */
export function errorResponse(e: unknown): { status: number; message: string } {
  if (e instanceof ApiError) return { status: e.status, message: e.message };
  if (e instanceof BerthError) return { status: STATUS[e.code] ?? 500, message: e.message };
  return { status: 500, message: e instanceof Error ? e.message : String(e) };
}
