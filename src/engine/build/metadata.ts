import { posix } from 'node:path';
import type { Instruction } from '../../dockerfile/index.js';
import type { ContainerConfig } from '../../oci/manifest.js';
import { parseSignal } from '../../runtime/signals.js';
import { BerthError } from '../../util/errors.js';
import { checkFlags, flagValue, METADATA_INSTRUCTIONS } from './stages.js';
import { parseGoDuration } from '../../util/go-duration.js';

export function isMetadata(keyword: string): boolean {
  return METADATA_INSTRUCTIONS.has(keyword);
}

/** A HEALTHCHECK duration (`30s`, `1m30s`, `500ms`), in nanoseconds. */
export function parseDuration(value: string): number {
  const ns = parseGoDuration(value);
  if (ns === undefined || ns < 0) throw new BerthError('DOCKERFILE_INVALID', `invalid duration "${value}"`);
  return ns;
}

function commandOf(ins: Instruction, shell: string[]): string[] {
  return ins.json ? [...ins.args] : [...shell, ins.args.join(' ')];
}

/** ENV and LABEL arrive as (key, value, separator) triples: keys and values expanded. */
function pairs(ins: Instruction, expand: (w: string) => string): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < ins.args.length; i += 3) out.push([expand(ins.args[i]!), expand(ins.args[i + 1]!)]);
  return out;
}

const quote = (s: string) => (/^[^\s"'\\]*$/.test(s) && s !== '' ? s : JSON.stringify(s));

/**
 * Applies one metadata instruction to the run config, words expanded as BuildKit expands them
 * (CMD, ENTRYPOINT, SHELL and HEALTHCHECK are not). Returns the new config and the instruction as
 * it took effect, which names the step in the cache and the history.
 */
export function applyMetadata(
  base: ContainerConfig,
  ins: Instruction,
  expand: (w: string) => string,
  expandWords: (w: string) => string[],
  stage: { cmdSet: boolean },
): { config: ContainerConfig; description: string } {
  const config: ContainerConfig = structuredClone(base);
  const shell = Array.isArray(config.Shell) && config.Shell.length > 0 ? (config.Shell as string[]) : ['/bin/sh', '-c'];
  const K = ins.keyword.toUpperCase();
  if (ins.keyword !== 'healthcheck') checkFlags(ins, []);
  switch (ins.keyword) {
    case 'env': {
      const env = [...(config.Env ?? [])];
      const set = pairs(ins, expand);
      if (set.length === 0) throw new BerthError('DOCKERFILE_INVALID', `ENV requires at least one argument (line ${ins.startLine})`);
      for (const [k, v] of set) {
        if (k === '') throw new BerthError('DOCKERFILE_INVALID', `ENV names can not be blank (line ${ins.startLine})`);
        const i = env.findIndex((e) => e.split('=')[0] === k);
        if (i >= 0) env[i] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      config.Env = env;
      return { config, description: `ENV ${set.map(([k, v]) => `${k}=${quote(v)}`).join(' ')}` };
    }
    case 'label': {
      const set = pairs(ins, expand);
      if (set.length === 0) throw new BerthError('DOCKERFILE_INVALID', `LABEL requires at least one argument (line ${ins.startLine})`);
      config.Labels = { ...(config.Labels ?? {}) };
      for (const [k, v] of set) config.Labels[k] = v;
      return { config, description: `LABEL ${set.map(([k, v]) => `${quote(k)}=${quote(v)}`).join(' ')}` };
    }
    case 'maintainer':
      return { config, description: `MAINTAINER ${ins.args.join(' ')}` };
    case 'expose': {
      const ports = ins.args.flatMap(expandWords);
      if (ports.length === 0) throw new BerthError('DOCKERFILE_INVALID', `EXPOSE requires at least one argument (line ${ins.startLine})`);
      config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
      for (const p of ports) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new BerthError('DOCKERFILE_INVALID', `invalid port "${p}" in EXPOSE (line ${ins.startLine})`);
        config.ExposedPorts[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      return { config, description: `EXPOSE ${ports.join(' ')}` };
    }
    case 'volume': {
      const paths = (ins.json ? ins.args.map(expand) : ins.args.flatMap(expandWords)).filter((p) => p !== '');
      if (paths.length === 0) throw new BerthError('DOCKERFILE_INVALID', `VOLUME requires at least one argument (line ${ins.startLine})`);
      config.Volumes = { ...(config.Volumes ?? {}) };
      for (const p of paths) {
        // `..` or `/a/..` would make every container of the image mount a volume over its root.
        if (posix.resolve('/', p) === '/')
          throw new BerthError('DOCKERFILE_INVALID', `VOLUME ${JSON.stringify(p)}: destination can't be '/' (line ${ins.startLine})`);
        config.Volumes[p] = {};
      }
      return { config, description: `VOLUME ${JSON.stringify(paths)}` };
    }
    case 'user': {
      const user = expand(ins.args[0] ?? '');
      if (user === '') throw new BerthError('DOCKERFILE_INVALID', `USER requires exactly one argument (line ${ins.startLine})`);
      config.User = user;
      return { config, description: `USER ${user}` };
    }
    case 'workdir': {
      const dir = expand(ins.args[0] ?? '');
      if (dir === '') throw new BerthError('DOCKERFILE_INVALID', `WORKDIR requires exactly one argument (line ${ins.startLine})`);
      config.WorkingDir = posix.normalize(posix.isAbsolute(dir) ? dir : posix.join(config.WorkingDir || '/', dir)).replace(/(.)\/$/, '$1');
      return { config, description: `WORKDIR ${config.WorkingDir}` };
    }
    case 'cmd':
      config.Cmd = commandOf(ins, shell);
      stage.cmdSet = true;
      return { config, description: `CMD ${JSON.stringify(config.Cmd)}` };
    case 'entrypoint':
      config.Entrypoint = commandOf(ins, shell);
      // An ENTRYPOINT drops the CMD the base image gave, not one this stage set.
      if (!stage.cmdSet) config.Cmd = null;
      return { config, description: `ENTRYPOINT ${JSON.stringify(config.Entrypoint)}` };
    case 'shell':
      if (!ins.json) throw new BerthError('DOCKERFILE_INVALID', `SHELL requires the arguments to be in JSON form (line ${ins.startLine})`);
      config.Shell = [...ins.args];
      return { config, description: `SHELL ${JSON.stringify(ins.args)}` };
    case 'stopsignal': {
      const signal = expand(ins.args[0] ?? '');
      try {
        parseSignal(signal);
      } catch {
        throw new BerthError('DOCKERFILE_INVALID', `Invalid signal: ${signal} (line ${ins.startLine})`);
      }
      config.StopSignal = signal;
      return { config, description: `STOPSIGNAL ${signal}` };
    }
    case 'healthcheck': {
      checkFlags(ins, ['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
      const kind = (ins.args[0] ?? '').toUpperCase();
      if (kind === 'NONE') {
        config.Healthcheck = { Test: ['NONE'] };
      } else if (kind === 'CMD') {
        const rest = ins.args.slice(1);
        const test = ins.json ? ['CMD', ...rest] : ['CMD-SHELL', rest.join(' ')];
        const hc: Record<string, unknown> = { Test: test };
        for (const [flag, field] of [
          ['interval', 'Interval'],
          ['timeout', 'Timeout'],
          ['start-period', 'StartPeriod'],
          ['start-interval', 'StartInterval'],
        ] as const) {
          const v = flagValue(ins, flag);
          if (v !== undefined) hc[field] = parseDuration(v);
        }
        const retries = flagValue(ins, 'retries');
        if (retries !== undefined) hc['Retries'] = Number(retries);
        config.Healthcheck = hc;
      } else {
        throw new BerthError('DOCKERFILE_INVALID', `unknown type "${kind}" in HEALTHCHECK (try CMD) (line ${ins.startLine})`);
      }
      return { config, description: `HEALTHCHECK ${JSON.stringify(config.Healthcheck)}` };
    }
    case 'onbuild': {
      const trigger = ins.original.replace(/^\s*onbuild\s+/i, '');
      const sub = ins.subInstruction?.keyword;
      if (sub === 'onbuild' || sub === 'from' || sub === 'maintainer')
        throw new BerthError('DOCKERFILE_INVALID', `${sub.toUpperCase()} isn't allowed as an ONBUILD trigger (line ${ins.startLine})`);
      config.OnBuild = [...((config.OnBuild as string[] | null | undefined) ?? []), trigger];
      return { config, description: `ONBUILD ${trigger}` };
    }
  }
  throw new BerthError('INTERNAL', `${K} is not a metadata instruction`);
}
