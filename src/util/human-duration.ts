// go-units' HumanDuration: the words `ps` (podman's and Docker's Status) use for how long ago.

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
