const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * Go's time.ParseDuration (`30s`, `1m30s`, `500ms`, `-2h`), in nanoseconds; undefined when `s` is
 * not one. podman's flags and the Dockerfile's HEALTHCHECK take durations in this form.
 */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([+-]?)(.*)$/s.exec(s)!;
  const body = m[2]!;
  if (body === '0') return 0;
  if (body === '') return undefined;
  let total = 0;
  let end = 0;
  for (const part of body.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy)) {
    total += Number(part[1]) * UNITS[part[2]!]!;
    end = part.index + part[0].length;
  }
  if (end !== body.length) return undefined;
  return Math.round(m[1] === '-' ? -total : total);
}
