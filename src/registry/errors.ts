// The errors of the distribution spec: each code has its HTTP status, and the body is
// {"errors":[{"code","message","detail"}]}. Storage backends throw these too, so that a route
// only has to let them through.

/**
 * The error codes of the OCI distribution spec (v1.1), plus the reference registry's PAGINATION_NUMBER_INVALID,
 * RANGE_INVALID for 416 answers and UNAVAILABLE (503: a pull-through cache's upstream cannot be reached).
 */
export type RegistryErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNAVAILABLE'
  | 'PAGINATION_NUMBER_INVALID'
  | 'RANGE_INVALID';

const STATUS: Record<RegistryErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  UNAVAILABLE: 503,
  PAGINATION_NUMBER_INVALID: 400,
  RANGE_INVALID: 416,
};

export interface RegistryErrorOptions {
  /** Overrides the code's usual status (413 for an oversized manifest). */
  status?: number;
  detail?: unknown;
  /** Extra response headers (Range and Location on a 416 for an upload). */
  headers?: Record<string, string>;
  cause?: unknown;
  /** More errors of the same response (one MANIFEST_BLOB_UNKNOWN per missing blob). */
  more?: RegistryError[];
}

/** An error the registry answers with: a spec code, a one-line message, and the status it maps to. */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;
  readonly more: readonly RegistryError[];

  constructor(code: RegistryErrorCode, message: string, opts: RegistryErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.status = opts.status ?? STATUS[code];
    this.detail = opts.detail;
    this.headers = opts.headers ?? {};
    this.more = opts.more ?? [];
  }

  toJSON(): { code: RegistryErrorCode; message: string; detail?: unknown } {
    return this.detail === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, detail: this.detail };
  }

  /** The response body the spec describes; 416 answers have none. */
  body(): string {
    if (this.status === 416) return '';
    return JSON.stringify({ errors: [this, ...this.more].map((e) => e.toJSON()) });
  }
}

export function isRegistryError(e: unknown, code?: RegistryErrorCode): e is RegistryError {
  return e instanceof RegistryError && (code === undefined || e.code === code);
}
