/**
 * YAML as podman prints `info` (go-yaml over the JSON view): map keys sorted, two-space indents,
 * list items at their key's indent, `{}`/`[]`/`null` for empty things, and strings plain unless
 * they would read back as something else (`"12"`), hold a `: ` or ` #` or start with an indicator
 * (`'...'`), or span lines (a `|-` block).
 */
export function goYaml(value: unknown): string {
  return lines(value, '').join('\n') + '\n';
}

function lines(value: unknown, indent: string): string[] {
  if (isMap(value)) {
    const out: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const v = value[key];
      if (v === undefined) continue;
      if (isMap(v) && Object.keys(v).length > 0) out.push(`${indent}${key}:`, ...lines(v, `${indent}  `));
      else if (Array.isArray(v) && v.length > 0) out.push(`${indent}${key}:`, ...lines(v, indent));
      else out.push(`${indent}${key}: ${scalar(v, `${indent}  `)}`);
    }
    return out;
  }
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (isMap(item) && Object.keys(item).length > 0) {
        const [first = '', ...rest] = lines(item, `${indent}  `);
        return [`${indent}- ${first.trimStart()}`, ...rest];
      }
      return [`${indent}- ${scalar(item, `${indent}  `)}`];
    });
  }
  return [`${indent}${scalar(value, indent)}`];
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Words YAML 1.1 reads as booleans, null or numbers: such a string must be quoted to stay one. */
const NOT_A_STRING = /^(?:~|null|true|false|yes|no|on|off|y|n|[-+]?(?:\d[\d_]*)?\.?\d+(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|[-+]?\.(?:inf|nan))$/i;

function scalar(v: unknown, blockIndent: string): string {
  if (v === null || v === undefined) return 'null';
  if (isMap(v)) return '{}';
  if (Array.isArray(v)) return '[]';
  if (typeof v !== 'string') return String(v);
  if (v === '' || NOT_A_STRING.test(v)) return JSON.stringify(v);
  if (v.includes('\n')) {
    const body = v
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => (l === '' ? '' : `${blockIndent}${l}`));
    return `${v.endsWith('\n') ? '|' : '|-'}\n${body.join('\n')}`;
  }
  // eslint-disable-next-line no-control-regex -- control characters need the double-quoted form's escapes
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(v)) return JSON.stringify(v);
  const plain = !/^[-?:,[\]{}#&*!|>'"%@`\s]/.test(v) && !/\s$/.test(v) && !v.includes(': ') && !v.includes(' #') && !v.endsWith(':');
  return plain ? v : `'${v.replace(/'/g, "''")}'`;
}
