// htpasswd users with bcrypt hashes (`htpasswd -B`), as the distribution registry takes them. The file is
// read again when it changes. Checking a password always runs one bcrypt comparison, for unknown users
// too, so that the time an answer takes does not tell which users exist.
import { createHmac, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { BerthError } from '../../util/errors.js';

const BCRYPT_RE = /^\$2[aby]?\$(\d\d)\$[./A-Za-z0-9]{53}$/;
/** How long a verified user:password pair is remembered, so that a push of many blobs runs bcrypt once. */
const CACHE_MS = 60_000;
const CACHE_MAX = 1000;
const RECHECK_MS = 1000;

export function parseHtpasswd(text: string, file: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (colon <= 0) throw new BerthError('USAGE', `htpasswd ${file}:${i + 1}: expected user:hash`);
    if (!BCRYPT_RE.test(hash)) throw new BerthError('USAGE', `htpasswd ${file}:${i + 1}: user ${user} has no bcrypt hash (make one with htpasswd -B)`);
    users.set(user, hash);
  }
  return users;
}

export class Htpasswd {
  private users = new Map<string, string>();
  private mtime = -1;
  private checked = 0;
  private dummy: string;
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Map<string, number>();

  private constructor(private readonly file: string) {
    this.dummy = bcrypt.hashSync(randomBytes(16).toString('hex'), 10);
  }

  static async open(file: string): Promise<Htpasswd> {
    const h = new Htpasswd(file);
    await h.reload(true);
    return h;
  }

  private async reload(force = false): Promise<void> {
    if (!force && Date.now() - this.checked < RECHECK_MS) return;
    this.checked = Date.now();
    let st;
    try {
      st = await stat(this.file);
    } catch (e) {
      if (force) throw new BerthError('USAGE', `htpasswd ${this.file}: ${(e as Error).message}`, { cause: e });
      return; // keep the users we have while the file is being replaced
    }
    if (st.mtimeMs === this.mtime) return;
    let users: Map<string, string>;
    try {
      users = parseHtpasswd(await readFile(this.file, 'utf8'), this.file);
    } catch (e) {
      if (force) throw e;
      console.error(`registry: keeping the previous users: ${(e as Error).message}`);
      this.mtime = st.mtimeMs;
      return;
    }
    this.users = users;
    this.mtime = st.mtimeMs;
    this.verified.clear();
    // Costed like the real hashes, so that an unknown user takes as long as a known one.
    const cost = [...users.values()][0]?.slice(4, 6);
    if (cost !== undefined && cost !== this.dummy.slice(4, 6)) this.dummy = bcrypt.hashSync(randomBytes(16).toString('hex'), Number(cost));
  }

  /** Whether `password` is `user`'s. */
  async verify(user: string, password: string): Promise<boolean> {
    await this.reload();
    const key = createHmac('sha256', this.cacheKey).update(`${user}\0${password}`).digest('base64');
    const seen = this.verified.get(key);
    if (seen !== undefined && Date.now() - seen < CACHE_MS && this.users.has(user)) return true;
    const hash = this.users.get(user);
    const ok = await bcrypt.compare(password, hash ?? this.dummy);
    if (!ok || hash === undefined) return false;
    if (this.verified.size >= CACHE_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, Date.now());
    return true;
  }

  has(user: string): boolean {
    return this.users.has(user);
  }
}
