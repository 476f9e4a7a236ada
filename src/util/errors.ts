/** Exit codes as podman uses them. */
export const ExitCode = {
  engine: 125,
  cannotInvoke: 126,
  notFound: 127,
} as const;

export type ErrorCode =
  | 'INVALID_REFERENCE'
  | 'IMAGE_UNKNOWN'
  | 'IMAGE_IN_USE'
  | 'CONTAINER_UNKNOWN'
  | 'CONTAINER_EXISTS'
  | 'CONTAINER_STATE'
  | 'VOLUME_UNKNOWN'
  | 'VOLUME_EXISTS'
  | 'VOLUME_IN_USE'
  | 'POD_UNKNOWN'
  | 'POD_EXISTS'
  | 'SECRET_UNKNOWN'
  | 'SECRET_EXISTS'
  | 'NETWORK_UNKNOWN'
  | 'NETWORK_EXISTS'
  | 'NETWORK_IN_USE'
  | 'NETWORK'
  | 'DIGEST_MISMATCH'
  | 'DIGEST_INVALID'
  | 'SIZE_MISMATCH'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNSUPPORTED'
  | 'CONFIG_INVALID'
  | 'ARCHIVE_INVALID'
  | 'LAYER_INVALID'
  | 'PATH_ESCAPE'
  | 'PLATFORM_UNAVAILABLE'
  | 'LOCKED'
  | 'UNAUTHORIZED'
  | 'POLICY_DENIED'
  | 'USAGE'
  | 'DOCKERFILE_INVALID'
  | 'BUILD_FAILED'
  | 'IO'
  | 'SIGNATURE_INVALID'
  | 'INTERNAL';

/**
 * The one error type of berth. `code` is stable for callers to branch on, `message` is the one
 * line a user sees, `temporary` tells retry logic that trying again may help.
 */
export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly temporary: boolean;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; temporary?: boolean; exitCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BerthError';
    this.code = code;
    this.temporary = opts.temporary ?? false;
    this.exitCode = opts.exitCode ?? ExitCode.engine;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isBerthError(e: unknown, code?: ErrorCode): e is BerthError {
  return e instanceof BerthError && (code === undefined || e.code === code);
}

/** Node's system errors carry a `code` such as ENOENT. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}
