/**
 * JSON as Go's encoding/json writes it: times in RFC 3339 with trimmed nanoseconds, Go maps
 * (JS `Map`) with sorted keys, U+2028/U+2029 escaped, and `<`, `>`, `&` escaped unless the
 * encoder was told not to (podman's `{{json}}` turns HTML escaping off; its `--format json`
 * output, made with json.MarshalIndent, keeps it on).
 */
import { goTimestamp } from '../../engine/system/index.js';

function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? null : goTimestamp(raw);
  if (value instanceof Map) {
    const keys = [...value.keys()].map(String).sort();
    return Object.fromEntries(keys.map((k) => [k, value.get(k) ?? value.get(Number(k))]));
  }
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/** Go's json encoding of `value`, compact or indented (MarshalIndent with prefix ""). */
export function goJson(value: unknown, opts: { indent?: string; escapeHtml?: boolean } = {}): string {
  const text = JSON.stringify(value, replacer, opts.indent) ?? 'null';
  let out = text.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  if (opts.escapeHtml) out = out.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return out;
}
