import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * A fingerprint of a store directory (paths, types, sizes, file hashes), leaving out temp space and the trash:
 * two equal snapshots mean a failed command changed nothing that matters.
 */
export function snapshotStore(root: string): string[] {
  const out: string[] = [];
  if (!existsSync(root)) return out;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const rel = relative(root, p);
      if (rel === 'tmp' || rel === 'trash' || rel === 'store.lock') continue; // scratch space and the lock, not content
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.push(`d ${rel}`);
        walk(p);
      } else if (st.isSymbolicLink()) {
        out.push(`l ${rel} -> ${readlinkSync(p)}`);
      } else if (st.isFile()) {
        out.push(`f ${rel} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
      } else {
        out.push(`o ${rel} ${st.mode}`);
      }
    }
  };
  walk(root);
  return out;
}
