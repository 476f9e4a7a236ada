/**
 * The one call a command makes to print its rows the way podman would for a given `--format`.
 */
import { goJson } from './_json.js';
import { hasTable, isJsonFormat, renderReport } from './template.js';

export interface FormatOptions {
  /** The command's own format, e.g. `table {{.Repository}}\t{{.Tag}}`, used without --format or with `--format table`. */
  defaultTable: string;
  /** Column headers by field name; fields without one get podman's derived header (`CreatedAt` → `CREATED AT`). */
  headers: Record<string, string>;
  /** What `--format json` prints, when it is not the rows themselves. */
  json?: () => unknown;
  /** Leave out the header row (`--noheading`). */
  noHeading?: boolean;
  /** The template's name in error messages; podman uses the command's name. */
  name?: string;
}

/**
 * Formats rows for output; the result ends in a newline unless it is empty.
 *
 * - no format, `''` or `table`: the default table, with headers, aligned as podman aligns it;
 * - `json` (or `{{json}}`): `opts.json()` or the rows as JSON indented by 4 spaces, as
 *   podman's json.MarshalIndent prints them (with `<`, `>`, `&` escaped);
 * - `table ...`: a header row and the rows, aligned;
 * - anything else: the Go template applied to each row, one per line, no header.
 */
export function formatOutput(format: string | undefined, rows: readonly object[], opts: FormatOptions): string {
  const base = { headers: opts.headers, ...(opts.noHeading ? { noHeading: true } : {}), ...(opts.name ? { name: opts.name } : {}) };
  if (format === undefined || format === '' || format === 'table') {
    if (opts.defaultTable === '') return '';
    return renderReport(opts.defaultTable, rows, { ...base, origin: 'podman' });
  }
  if (isJsonFormat(format)) return `${goJson(opts.json ? opts.json() : rows, { indent: '    ', escapeHtml: true })}\n`;
  if (hasTable(format)) return renderReport(format, rows, base);
  return renderReport(format, rows, { ...(opts.name ? { name: opts.name } : {}) });
}
