import { readFile } from 'node:fs/promises';
import { withStore } from '../../engine/index.js';
import { createSecret, findSecret, inspectSecret, listSecrets, readSecretData, removeSecrets, type SecretRecord } from '../../engine/secrets/index.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { parseKeyValues } from '../../util/key-values.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';
import { createdAgo, goTime } from '../output/units.js';
import { readStdin } from './_stdin.js';
import { compareStrings } from '../../util/compare.js';

/** The secret's bytes: a file, stdin (`-`), or with --env an environment variable. */
async function secretData(source: string, fromEnv: boolean): Promise<Buffer> {
  if (fromEnv) {
    const value = process.env[source];
    if (value === undefined) throw new BerthError('USAGE', `cannot create store secret data: environment variable ${source} is not set`);
    return Buffer.from(value);
  }
  if (source === '-') return readStdin();
  try {
    return await readFile(source);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new BerthError('USAGE', `open ${source}: no such file or directory`, { cause: e });
    throw e;
  }
}

/** `berth secret create NAME FILE|-`: prints the new secret's ID, as podman does. */
export async function runCreate(
  g: GlobalOptions,
  name: string,
  source: string,
  f: { driver: string; label: string[]; env?: boolean; replace?: boolean },
): Promise<void> {
  const data = await secretData(source, f.env ?? false);
  await withStore(engineOptions(g), async (store) => {
    const s = await createSecret(store, name, data, { driver: f.driver, labels: parseKeyValues(f.label), ...(f.replace ? { replace: true } : {}) });
    process.stdout.write(`${s.id}\n`);
  });
}

/** podman's secret filters: name= and id=, each a regular expression (or the exact value). */
function secretFilter(filters: string[]): (s: SecretRecord) => boolean {
  const tests = filters.map((filter) => {
    const eq = filter.indexOf('=');
    const key = eq === -1 ? filter : filter.slice(0, eq);
    const value = filter.slice(eq + 1);
    const matches = (field: string) => {
      if (field === value) return true;
      try {
        return new RegExp(value).test(field);
      } catch {
        return false;
      }
    };
    if (key === 'name') return (s: SecretRecord) => matches(s.name);
    if (key === 'id') return (s: SecretRecord) => matches(s.id);
    throw new BerthError('USAGE', `invalid filter "${key}"`);
  });
  return (s) => tests.every((t) => t(s));
}

export async function runList(g: GlobalOptions, f: { quiet?: boolean; noheading?: boolean; filter: string[]; format?: string }): Promise<void> {
  const keep = secretFilter(f.filter);
  await withStore(engineOptions(g), async (store) => {
    const secrets = (await listSecrets(store)).filter(keep).sort((a, b) => compareStrings(b.created, a.created));
    if (f.quiet) {
      process.stdout.write(secrets.map((s) => `${s.id}\n`).join(''));
      return;
    }
    const rows = secrets.map((s) => ({
      ID: s.id,
      Name: s.name,
      Driver: s.driver,
      CreatedAt: createdAgo(s.created),
      UpdatedAt: createdAgo(s.updated),
      Labels: s.labels,
    }));
    process.stdout.write(
      formatOutput(f.format, rows, {
        defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}',
        headers: { ID: 'ID', Name: 'NAME', Driver: 'DRIVER', CreatedAt: 'CREATED', UpdatedAt: 'UPDATED' },
        ...(f.noheading ? { noHeading: true } : {}),
        name: 'secret ls',
      }),
    );
  });
}

/** podman's `secret inspect --pretty` block (its spacing too). */
function pretty(s: ReturnType<typeof inspectSecret>): string {
  const labels = Object.entries(s.Spec.Labels)
    .map(([k, v]) => ` - ${k}=${v}\n`)
    .join('');
  return [
    `ID:              ${s.ID}\n`,
    `Name:              ${s.Spec.Name}\n`,
    ...(labels ? [`Labels:\n${labels}`] : []),
    `Driver:            ${s.Spec.Driver.Name}\n`,
    `Created at:        ${goTime(s.CreatedAt)}\n`,
    `Updated at:        ${goTime(s.UpdatedAt)}\n`,
  ].join('');
}

export async function runInspect(g: GlobalOptions, names: string[], f: { format?: string; pretty?: boolean; showsecret?: boolean }): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const secrets = await listSecrets(store);
    const missing: string[] = [];
    const found: ReturnType<typeof inspectSecret>[] = [];
    for (const n of names) {
      const s = findSecret(secrets, n);
      if (!s) missing.push(n);
      else found.push(inspectSecret(store, s, f.showsecret ? await readSecretData(store, s) : undefined));
    }
    if (f.pretty) process.stdout.write(found.map(pretty).join('\n'));
    else if (!f.format || f.format === 'json') process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    else process.stdout.write(formatOutput(f.format, found, { defaultTable: '', headers: {}, name: 'secret inspect' }));
    if (missing.length > 0)
      throw new BerthError('SECRET_UNKNOWN', missing.map((m) => `inspecting secret: no secret with name or id "${m}": no such secret`).join('\n'));
  });
}

export async function runRemove(g: GlobalOptions, names: string[], f: { all?: boolean }): Promise<void> {
  if (f.all && names.length > 0) throw new BerthError('USAGE', 'when using the --all switch, you may not pass any secret names or IDs');
  if (!f.all && names.length === 0) throw new BerthError('USAGE', '`secret rm` requires at least 1 argument: provide secret names or IDs, or --all');
  await withStore(engineOptions(g), async (store) => {
    const { removed, errors } = await removeSecrets(store, names, { ...(f.all ? { all: true } : {}) });
    process.stdout.write(removed.map((s) => `${s.id}\n`).join(''));
    if (errors.length > 0) throw new BerthError('SECRET_UNKNOWN', errors.map((e) => e.message).join('\n'));
  });
}
