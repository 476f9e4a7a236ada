/**
 * Strings in code-unit order, as Go's `sort.Strings` and `<` order them (podman's listings), for
 * ISO timestamps, IDs and names. Not `localeCompare`: its first call loads ICU's collation, ~6 ms
 * of a short command, and its order is the locale's, not podman's.
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
