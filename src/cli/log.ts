/**
 * Log lines on stderr in logrus's text format, as podman writes them (`time="..." level=info
 * msg="..."`), at and above the level of `--log-level` (podman's levels, most severe first).
 */
export const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let threshold: number = LOG_LEVELS.indexOf('warn');

/** `warning` is logrus's other name for `warn`. */
export function parseLogLevel(name: string): LogLevel | undefined {
  const level = name === 'warning' ? 'warn' : name;
  return (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : undefined;
}

export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

export function log(level: LogLevel, msg: string): void {
  if (LOG_LEVELS.indexOf(level) > threshold) return;
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  process.stderr.write(`time="${time}" level=${level === 'warn' ? 'warning' : level} msg=${JSON.stringify(msg)}\n`);
}
