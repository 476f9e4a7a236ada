import { BerthError, errnoCode } from '../util/errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Groups whose member list in the image's /etc/group names the user. */
  additionalGids: number[];
  home: string;
  /**
   * podman's lines for a numeric user or group the image's files do not know, to be appended to
   * its /etc/passwd and /etc/group so that `id`, `whoami` and `~` work; the user's home is the
   * working directory.
   */
  passwdLine?: string;
  groupLine?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const isNumeric = (s: string) => /^\d+$/.test(s);

async function readDatabase(read: (path: string) => Promise<string>, path: string): Promise<string[][]> {
  let text: string;
  try {
    text = await read(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

export function parsePasswd(rows: string[][]): PasswdEntry[] {
  return rows
    .filter((f) => f.length >= 4 && isNumeric(f[2]!) && isNumeric(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }));
}

export function parseGroup(rows: string[][]): GroupEntry[] {
  return rows
    .filter((f) => f.length >= 3 && isNumeric(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

/**
 * Resolves `--user` / the image's User (`name`, `uid`, `name:group`, `uid:gid`) against the image's
 * own /etc/passwd and /etc/group, as podman does: a name that is not there is an error, a number
 * need not be there. `read` opens a path inside the container's root (symlinks kept inside it).
 */
export async function resolveUser(read: (path: string) => Promise<string>, spec: string, workdir = '/'): Promise<ResolvedUser> {
  // Split at the first colon only, as podman does: `a:b:c` names group `b:c`, which no group
  // file holds, rather than quietly dropping `:c`.
  const colon = spec.indexOf(':');
  const userPart = colon === -1 ? spec : spec.slice(0, colon);
  const groupPart = colon === -1 ? undefined : spec.slice(colon + 1);
  const passwd = parsePasswd(await readDatabase(read, '/etc/passwd'));
  const groups = parseGroup(await readDatabase(read, '/etc/group'));
  let uid = 0;
  let gid: number | undefined;
  let name: string | undefined;
  let home = '/';
  if (userPart === '') {
    name = 'root';
  } else if (isNumeric(userPart)) {
    uid = Number(userPart);
  } else {
    name = userPart;
  }
  const entry = name !== undefined ? passwd.find((p) => p.name === name) : passwd.find((p) => p.uid === uid);
  if (name !== undefined && userPart !== '' && !entry) {
    throw new BerthError('USAGE', `unable to find user ${name}: no matching entries in passwd file`);
  }
  if (entry) {
    uid = entry.uid;
    gid = entry.gid;
    home = entry.home;
    name = entry.name;
  } else if (userPart === '') {
    home = '/root';
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new BerthError('USAGE', `unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  // A UID the image does not know runs in group 0, as docker and podman run it.
  gid ??= 0;
  // Supplementary groups come from the passwd name; an explicit group replaces them, as in docker.
  const additionalGids =
    name !== undefined && groupPart === undefined ? [...new Set(groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid))] : [];
  const extra = missingEntries(userPart, groupPart, { uid, gid, passwd, groups, workdir });
  return { uid, gid, additionalGids, home: extra.passwdLine ? workdir : home, ...extra };
}

/**
 * podman's rules: a passwd line for a numeric user that no entry names (its group the one asked
 * for, else 0), a group line for a numeric group (or, with none asked for, the numeric user) that
 * no group names, listing the user as given.
 */
function missingEntries(
  userPart: string,
  groupPart: string | undefined,
  k: { uid: number; gid: number; passwd: PasswdEntry[]; groups: GroupEntry[]; workdir: string },
): { passwdLine?: string; groupLine?: string } {
  if (userPart === '') return {};
  const out: { passwdLine?: string; groupLine?: string } = {};
  if (isNumeric(userPart) && !k.passwd.some((p) => p.name === userPart || p.uid === k.uid)) {
    out.passwdLine = `${k.uid}:*:${k.uid}:${groupPart ? k.gid : 0}:container user:${k.workdir}:/bin/sh`;
  }
  const group = groupPart || userPart;
  if (isNumeric(group) && !k.groups.some((g) => g.name === group || g.gid === Number(group))) {
    out.groupLine = `${Number(group)}:x:${Number(group)}:${userPart}`;
  }
  return out;
}

/** The environment with HOME set to the user's home, unless the image or the user set it. */
export function withHome(env: readonly string[], home: string): string[] {
  return env.some((e) => e.startsWith('HOME=')) ? [...env] : [...env, `HOME=${home}`];
}
