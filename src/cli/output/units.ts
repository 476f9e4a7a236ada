/**
 * Sizes and durations in the exact words podman prints, after docker/go-units v0.5.0 (the
 * version podman vendors) and podman's own wrappers around it.
 */
import { formatFloat, goTimeString } from './_gofmt.js';
import { humanDuration } from '../../util/human-duration.js';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'] as const;
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'] as const;

function scale(size: number, base: number, units: readonly string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]!];
}

/**
 * go-units `HumanSizeWithPrecision`: decimal units, `%.<precision>g` and no space, e.g.
 * `1.049MB` at precision 4. Like Go's %g it turns to exponent form when rounding reaches the
 * next power of ten (999.6 kB at precision 3 is `1e+03kB`), which podman prints as it is.
 */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  const [size, unit] = scale(bytes, 1000, DECIMAL_UNITS);
  return formatFloat(size, 'g', precision) + unit;
}

/** go-units `HumanSize` (4 significant digits, no space): podman `system df`, volume sizes. */
export function goHumanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 4);
}

/**
 * The SIZE column of `podman images` and `podman history`: 3 significant digits with a space
 * before the unit, e.g. `1.46 MB`, `925 B`, `5.12 kB`.
 */
export function humanSize(bytes: number): string {
  const s = humanSizeWithPrecision(bytes, 3);
  const cut = s.search(/[^0-9]*$/);
  return `${s.slice(0, cut)} ${s.slice(cut)}`;
}

/** go-units `BytesSize`: binary units, 4 significant digits, no space, e.g. `3.42GiB`. */
export function bytesSize(bytes: number): string {
  const [size, unit] = scale(bytes, 1024, BINARY_UNITS);
  return formatFloat(size, 'g', 4) + unit;
}

// go-units' HumanDuration lives in util, so the API server's Status words durations the same way.
export { humanDuration };

/** podman's CREATED column: `HumanDuration(time.Since(created)) + " ago"`. */
export function createdAgo(created: Date | number | string, now: Date | number = Date.now()): string {
  const t = created instanceof Date ? created.getTime() : typeof created === 'string' ? Date.parse(created) : created;
  const n = now instanceof Date ? now.getTime() : now;
  return `${humanDuration(n - t)} ago`;
}

/** Go's `time.Time.String()` in UTC, as podman prints `.CreatedAt`: `2024-01-02 03:04:05 +0000 UTC`. */
export function goTime(date: Date | number | string): string {
  return goTimeString(date instanceof Date ? date : new Date(date));
}
