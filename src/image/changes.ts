import type { ContainerConfig } from '../oci/manifest.js';
import { BerthError } from '../util/errors.js';

export type { ContainerConfig };

/** Exec form (a JSON array) or shell form (run through /bin/sh -c), as a Dockerfile reads them. */
function commandForm(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
    } catch {
      /* not JSON: shell form, as docker treats it */
    }
  }
  return ['/bin/sh', '-c', trimmed];
}

/** `K=V K2="V 2"` or `K V` pairs (ENV, LABEL). */
function keyValues(value: string): [string, string][] {
  const trimmed = value.trim();
  if (!trimmed.includes('=')) {
    const sp = trimmed.search(/\s/);
    if (sp === -1) throw new BerthError('USAGE', `invalid change "${value}": expected KEY=VALUE`);
    return [[trimmed.slice(0, sp), trimmed.slice(sp).trim()]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of trimmed.matchAll(re)) {
    let v = m[2]!;
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1]!, v]);
  }
  return out;
}

const INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'] as const;

/**
 * Applies `--change` instructions (`CMD=/bin/sh`, `ENV K=V`, ...) to a container config, as
 * `podman import --change` and `podman commit --change` do. Returns a new config.
 */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const config: ContainerConfig = structuredClone(base);
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)(?:\s*=\s*|\s+)([\s\S]*)$/.exec(change);
    const instruction = m?.[1]?.toUpperCase();
    if (!m || !instruction || !(INSTRUCTIONS as readonly string[]).includes(instruction)) {
      throw new BerthError('USAGE', `invalid change "${change}": expected one of ${INSTRUCTIONS.join(', ')} followed by a value`);
    }
    const value = m[2]!;
    switch (instruction) {
      case 'CMD':
        config.Cmd = commandForm(value);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = commandForm(value);
        break;
      case 'ENV': {
        const env = config.Env ?? [];
        for (const [k, v] of keyValues(value)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        config.Env = env;
        break;
      }
      case 'LABEL':
        config.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(keyValues(value)) };
        break;
      case 'EXPOSE':
        for (const port of value.trim().split(/\s+/)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(port)) throw new BerthError('USAGE', `invalid change "${change}": "${port}" is not a port`);
          config.ExposedPorts = { ...(config.ExposedPorts ?? {}), [port.includes('/') ? port : `${port}/tcp`]: {} };
        }
        break;
      case 'VOLUME': {
        const paths = value.trim().startsWith('[') ? (JSON.parse(value) as string[]) : value.trim().split(/\s+/);
        for (const p of paths) config.Volumes = { ...(config.Volumes ?? {}), [p]: {} };
        break;
      }
      case 'USER':
        config.User = value.trim();
        break;
      case 'WORKDIR':
        config.WorkingDir = value.trim();
        break;
      case 'STOPSIGNAL':
        config.StopSignal = value.trim();
        break;
      case 'ONBUILD':
        config.OnBuild = [...((config.OnBuild as string[] | undefined) ?? []), value.trim()];
        break;
    }
  }
  return config;
}
