import { readFile } from 'node:fs/promises';

/** One line of /etc/subuid or /etc/subgid: IDs `start` … `start + count - 1` belong to the user. */
export interface SubidRange {
  start: number;
  count: number;
}

/**
 * The subordinate ranges of a user in the text of /etc/subuid or /etc/subgid, in file order. A
 * line names the user or its numeric ID (shadow's tools write names; both are valid); comments,
 * blank and malformed lines are skipped, as newuidmap skips them.
 */
export function parseSubids(text: string, user: { name?: string; id: number }): SubidRange[] {
  const ranges: SubidRange[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [owner, start, count] = t.split(':');
    if (owner !== user.name && owner !== String(user.id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (!/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '') || c <= 0 || s + c > 2 ** 32) continue;
    ranges.push({ start: s, count: c });
  }
  return ranges;
}

/** The ranges of the user in `file`; none when the file does not exist. */
export async function readSubids(file: string, user: { name?: string; id: number }): Promise<SubidRange[]> {
  try {
    return parseSubids(await readFile(file, 'utf8'), user);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * The user namespace's map in newuidmap's argument form: the user's own ID as 0, then each
 * subordinate range after the last, from 1 on (as rootless podman maps them).
 */
export function idMapArgs(ownId: number, ranges: SubidRange[]): string[] {
  const args = ['0', String(ownId), '1'];
  let next = 1;
  for (const r of ranges) {
    args.push(String(next), String(r.start), String(r.count));
    next += r.count;
  }
  return args;
}
