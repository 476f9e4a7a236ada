import { TRUST_TYPES, setTrust, showTrust } from '../../engine/images/index.js';
import type { GlobalOptions } from '../context.js';
import { renderTable } from '../output/index.js';
import { BerthError } from '../../util/errors.js';

interface ShowFlags {
  json?: boolean;
  raw?: boolean;
  noheading?: boolean;
  policypath?: string;
  registrypath?: string;
}

/**
 * `image trust show [REGISTRY]`: podman's table (TRANSPORT NAME TYPE ID STORE), `--json` or the
 * file itself with `--raw`. With REGISTRY, only that scope's rows (podman accepts and ignores it).
 */
export async function runShow(_g: GlobalOptions, registry: string | undefined, f: ShowFlags): Promise<void> {
  const shown = await showTrust({
    ...(f.policypath ? { policyPath: f.policypath } : {}),
    ...(f.registrypath ? { registriesDir: f.registrypath } : {}),
    ...(registry !== undefined ? { scope: registry } : {}),
  });
  if (f.raw) {
    process.stdout.write(`${shown.raw}\n`);
    return;
  }
  if (f.json) {
    process.stdout.write(`${JSON.stringify(shown.entries.length > 0 ? shown.entries : null, null, 2)}\n`);
    return;
  }
  const rows = shown.entries.map((e) => [e.transport, e.repo_name ?? '', e.type, e.gpg_id ?? '', e.sigstore ?? '']);
  process.stdout.write(renderTable(f.noheading ? [] : ['TRANSPORT', 'NAME', 'TYPE', 'ID', 'STORE'], rows));
}

interface SetFlags {
  type: string;
  pubkeysfile: string[];
  policypath?: string;
}

/** `image trust set [-t TYPE] [-f KEYFILE]... REGISTRY|default`: edits policy.json as podman does. */
export async function runSet(_g: GlobalOptions, registry: string, f: SetFlags): Promise<void> {
  if (!TRUST_TYPES.includes(f.type as (typeof TRUST_TYPES)[number])) {
    throw new BerthError('USAGE', `invalid choice: ${f.type} (choose from 'accept', 'reject', 'signedBy', 'sigstoreSigned')`);
  }
  await setTrust({ scope: registry, type: f.type, pubKeysFiles: f.pubkeysfile, ...(f.policypath ? { policyPath: f.policypath } : {}) });
}
