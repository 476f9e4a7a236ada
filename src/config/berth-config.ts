import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../util/errors.js';

/** berth.toml: what a user or an administrator may set. */
export interface BerthConfig {
  storage: {
    root?: string;
    runroot?: string;
  };
}

const KNOWN: Record<string, Record<string, 'string'>> = {
  storage: { root: 'string', runroot: 'string' },
};

/** Checks the parsed TOML against what berth understands: a typo is an error, not silence. */
function validate(path: string, doc: Record<string, unknown>): BerthConfig {
  const out: BerthConfig = { storage: {} };
  for (const [table, value] of Object.entries(doc)) {
    const fields = KNOWN[table];
    if (!fields) throw new BerthError('USAGE', `${path}: unknown table [${table}] (known: ${Object.keys(KNOWN).join(', ')})`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BerthError('USAGE', `${path}: ${table} must be a table`);
    for (const [key, v] of Object.entries(value)) {
      const type = fields[key];
      if (!type) throw new BerthError('USAGE', `${path}: unknown key ${table}.${key} (known: ${Object.keys(fields).join(', ')})`);
      if (typeof v !== type) throw new BerthError('USAGE', `${path}: ${table}.${key} must be a ${type}`);
      (out as unknown as Record<string, Record<string, unknown>>)[table]![key] = v;
    }
  }
  return out;
}

/**
 * Reads berth.toml from each config directory in turn (/etc/berth, then ~/.config/berth); later
 * files override earlier ones key by key. Missing files are fine; a malformed one is an error.
 */
export async function loadBerthConfig(dirs: readonly string[]): Promise<BerthConfig> {
  const merged: BerthConfig = { storage: {} };
  for (const dir of dirs) {
    const path = join(dir, 'berth.toml');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') continue;
      throw e;
    }
    const { parse } = await import('smol-toml');
    let doc: Record<string, unknown>;
    try {
      doc = parse(text) as Record<string, unknown>;
    } catch (e) {
      const first = String((e as Error).message).split('\n')[0];
      throw new BerthError('USAGE', `${path}: invalid TOML: ${first}`, { cause: e });
    }
    const config = validate(path, doc);
    Object.assign(merged.storage, config.storage);
  }
  return merged;
}
