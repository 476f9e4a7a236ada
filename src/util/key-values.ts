/** `KEY=VALUE` words (a bare KEY has an empty value) as a record, later keys winning: --label, --annotation, --opt. */
export function parseKeyValues(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq === -1) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
