/** When this process started, for the seconds logrus prints in a terminal (`WARN[0010]`). */
const started = Date.now();

/**
 * A warning on stderr the way podman's logger (logrus) prints one: `WARN[0010] message` in a
 * terminal (seconds since the command started), `time="…" level=warning msg="…"` otherwise.
 * For what goes on but deserves notice (a stop that had to resort to SIGKILL); never for errors.
 */
export function logWarning(message: string, stream: NodeJS.WriteStream = process.stderr): void {
  stream.write(`${formatWarning(message, stream.isTTY === true, new Date())}\n`);
}

export function formatWarning(message: string, terminal: boolean, now: Date): string {
  if (terminal) {
    const seconds = Math.max(0, Math.floor((now.getTime() - started) / 1000));
    return `WARN[${String(seconds).padStart(4, '0')}] ${message}`;
  }
  // logrus quotes the message as Go's %q does when it holds spaces or quotes; RFC 3339 time in seconds.
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `time="${time}" level=warning msg=${JSON.stringify(message)}`;
}
