/**
 * Times in image configs as Go writes them (RFC 3339 with the fraction's trailing zeros trimmed):
 * `2026-12-01T02:53:53.79Z`, `1970-01-01T00:00:00Z`. podman and skopeo print a config's `created`
 * after a round trip through Go's time.Time, so berth writes and shows it the same way.
 */
export function goTimestamp(d: Date): string {
  const iso = d.toISOString();
  return iso.slice(0, 19) + iso.slice(19, 23).replace(/\.?0+$/, '') + 'Z';
}

/** A timestamp string from a config, normalised as Go re-marshals it (precision kept, trailing zeros trimmed). */
export function goTimestampString(s: string): string {
  return s.replace(/(T\d{2}:\d{2}:\d{2})(\.\d+)?/, (_, hms: string, frac: string | undefined) => hms + (frac ?? '').replace(/\.?0+$/, ''));
}
