/**
 * Sizes and durations in the exact words podman prints, after docker/go-units v0.5.0 (the
 * version podman vendors) and podman's own wrappers around it.
 */
import { formatFloat, goTimeString } from './_gofmt.js';

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

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const MAX_DURATION = 9_223_372_036_854.775; // Go's largest Duration, 2^63-1 ns

/**
 * go-units `HumanDuration` as released (v0.5.0), e.g. `Less than a second`, `About a minute`,
 * `3 hours`, `2 weeks`. Days, weeks, months (30 days) and years (365 days) are whole divisions
 * of the rounded hour count, so `2 weeks + 6 days` is still `2 weeks`.
 */
export function humanDuration(ms: number): string {
  // An unreadable time reads as Go's zero time, whose age saturates at the largest Duration.
  if (Number.isNaN(ms)) ms = MAX_DURATION;
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / HOUR + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(Math.trunc(ms / HOUR) / 24) / 365)} years`;
}

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
