/**
 * conmon's k8s-file log: one line per chunk of output, `TIME STREAM TAG TEXT`, where TAG is F for
 * a chunk that ends a line and P for a partial one (a line longer than conmon's buffer, or output
 * without a newline yet).
 */
export interface LogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The line ends here (F) or continues in the next entry (P). */
  full: boolean;
  text: string;
}

export function parseLogLine(line: string): LogEntry | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  return { time: line.slice(0, a), stream, full: !tag.startsWith('P'), text: c < 0 ? '' : line.slice(c + 1) };
}

/** Splits log text into entries; a trailing line without its newline is left for the next read. */
export function parseLogChunk(text: string): { entries: LogEntry[]; rest: string } {
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  const entries: LogEntry[] = [];
  for (const l of lines) {
    const e = parseLogLine(l);
    if (e) entries.push(e);
  }
  return { entries, rest };
}

/** The last `n` whole lines (a line is its partial entries plus the full one that ends it). */
export function tailEntries(entries: LogEntry[], n: number): LogEntry[] {
  if (n < 0) return entries;
  let lines = 0;
  let i = entries.length;
  while (i > 0) {
    const e = entries[i - 1]!;
    if (e.full) {
      if (lines === n) break;
      lines++;
    }
    i--;
  }
  return entries.slice(i);
}
