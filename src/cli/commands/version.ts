import { API_VERSION, VERSION } from '../../util/version.js';
import type { GlobalOptions } from '../context.js';

export function versionInfo(): Record<string, string | number> {
  return {
    APIVersion: API_VERSION,
    Version: VERSION,
    NodeVersion: process.version,
    OsArch: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export async function run(_g: GlobalOptions, opts: { format?: string }): Promise<void> {
  const info = versionInfo();
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify({ Client: info }, null, 4)}\n`);
    return;
  }
  if (opts.format) {
    const { formatOutput } = await import('../output/format.js');
    process.stdout.write(formatOutput(opts.format, [{ Client: info, ...info }], { defaultTable: '', headers: {} }));
    return;
  }
  process.stdout.write(
    `Client:       berth\nVersion:      ${info.Version}\nAPI Version:  ${info.APIVersion}\nNode Version: ${info.NodeVersion}\nOS/Arch:      ${info.OsArch}\n`,
  );
}
