import { parseDockerfile, processWord, type Instruction } from '../../dockerfile/index.js';
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform } from '../../oci/platform.js';
import { BerthError } from '../../util/errors.js';

/** One `FROM` and the instructions up to the next one. */
export interface Stage {
  /** 0-based position in the file. */
  index: number;
  /** `AS name`, lowercased as BuildKit compares it. */
  name?: string;
  /** The base as written (expanded with the global ARGs). */
  base: string;
  from: Instruction;
  instructions: Instruction[];
}

export interface BuildPlan {
  /** ARGs declared before the first FROM, with their values after --build-arg. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
  /** The stages to run, in file order: the target and what it needs. */
  needed: Stage[];
  target: Stage;
  escapeToken: string;
}

/** The instructions that only change the image's config: no container runs, no layer is made. */
export const METADATA_INSTRUCTIONS: ReadonlySet<string> = new Set([
  'env',
  'label',
  'expose',
  'volume',
  'user',
  'workdir',
  'cmd',
  'entrypoint',
  'shell',
  'stopsignal',
  'healthcheck',
  'onbuild',
  'maintainer',
]);

/** Every instruction; an unknown one fails the build before any step runs. */
const KNOWN = new Set(['from', 'run', 'copy', 'add', 'arg', ...METADATA_INSTRUCTIONS]);

/**
 * `--platform` and `FROM --platform=`: berth builds for the host only, so any other platform (each
 * of a comma-separated list) fails with one line naming it.
 */
export function checkPlatform(value: string, what: string): void {
  const host = normalizePlatform(hostPlatform());
  for (const one of value.split(',').map((p) => p.trim())) {
    const p = normalizePlatform(parsePlatform(one));
    if (p.os !== host.os || p.architecture !== host.architecture || (p.variant ?? '') !== (host.variant ?? '')) {
      throw new BerthError('USAGE', `${what}${one}: only the host platform ${formatPlatform(hostPlatform())} can be built`);
    }
  }
}

/** The build args BuildKit declares itself (usable after `ARG NAME` without a value). */
export function automaticArgs(): Map<string, string> {
  const p = hostPlatform();
  const platform = `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
  const out = new Map<string, string>();
  for (const prefix of ['BUILD', 'TARGET']) {
    out.set(`${prefix}PLATFORM`, platform);
    out.set(`${prefix}OS`, p.os);
    out.set(`${prefix}ARCH`, p.architecture);
    out.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  return out;
}

export function lookupOf(map: ReadonlyMap<string, string | undefined>): { get(name: string): string | undefined } {
  return { get: (name) => map.get(name) };
}

/** `NAME=default` or `NAME`. */
export function splitArg(word: string): { name: string; value: string | undefined } {
  const eq = word.indexOf('=');
  return eq < 0 ? { name: word, value: undefined } : { name: word.slice(0, eq), value: word.slice(eq + 1) };
}

/**
 * Splits a Dockerfile into stages, evaluates the ARGs before the first FROM and the FROM lines,
 * and works out which stages the target needs (FROM another stage, COPY --from a stage).
 */
export function planBuild(text: string, opts: { buildArgs: ReadonlyMap<string, string>; target?: string }): BuildPlan {
  const df = parseDockerfile(text);
  const lex = { escapeToken: df.escapeToken };
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const ins of df.instructions) {
    if (!KNOWN.has(ins.keyword)) throw new BerthError('DOCKERFILE_INVALID', `unknown instruction: ${ins.value.toUpperCase()} (line ${ins.startLine})`);
    if (ins.keyword === 'from') {
      const scope = new Map([...automaticArgs(), ...globalArgs]);
      const words = ins.args;
      if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === 'as')) {
        throw new BerthError('DOCKERFILE_INVALID', `FROM requires either one or three arguments (line ${ins.startLine})`);
      }
      for (const f of ins.flags) {
        if (f.startsWith('--platform=')) checkPlatform(processWord(f.slice('--platform='.length), lookupOf(scope), lex), 'FROM --platform=');
        else throw new BerthError('DOCKERFILE_INVALID', `FROM ${f.split('=')[0]} is not supported (line ${ins.startLine})`);
      }
      const base = processWord(words[0]!, lookupOf(scope), lex);
      if (base === '') throw new BerthError('DOCKERFILE_INVALID', `base name (${words[0]}) should not be blank (line ${ins.startLine})`);
      const name = words[2] ? processWord(words[2], lookupOf(scope), lex).toLowerCase() : undefined;
      if (name !== undefined && stages.some((s) => s.name === name)) {
        throw new BerthError('DOCKERFILE_INVALID', `duplicate stage name "${name}" (line ${ins.startLine})`);
      }
      stages.push({ index: stages.length, ...(name ? { name } : {}), base, from: ins, instructions: [] });
      continue;
    }
    const current = stages.at(-1);
    if (current) {
      current.instructions.push(ins);
      continue;
    }
    if (ins.keyword !== 'arg')
      throw new BerthError(
        'DOCKERFILE_INVALID',
        `no build stage in current context: ${ins.keyword.toUpperCase()} before the first FROM (line ${ins.startLine})`,
      );
    for (const word of ins.args) {
      const { name, value } = splitArg(word);
      const given = opts.buildArgs.get(name);
      const scope = new Map([...automaticArgs(), ...globalArgs]);
      globalArgs.set(name, given ?? (value === undefined ? undefined : processWord(value, lookupOf(scope), lex)));
    }
  }
  if (stages.length === 0) throw new BerthError('DOCKERFILE_INVALID', 'the Dockerfile has no FROM instruction');

  let target = stages.at(-1)!;
  if (opts.target !== undefined) {
    const found = stages.find((s) => s.name === opts.target!.toLowerCase());
    if (!found) throw new BerthError('USAGE', `the target "${opts.target}" was not found in the Dockerfile`);
    target = found;
  }
  const needed = new Set<number>();
  const visit = (s: Stage) => {
    if (needed.has(s.index)) return;
    needed.add(s.index);
    for (const d of stageDeps(stages, s)) visit(stages[d]!);
  };
  visit(target);
  return { globalArgs, stages, needed: stages.filter((s) => needed.has(s.index)), target, escapeToken: df.escapeToken };
}

/**
 * The stages one stage waits for: its FROM stage, the stages of `COPY --from` / `ADD --from` and of
 * `RUN --mount=...,from=STAGE`. Always earlier stages (findStage only looks back), so file order is
 * a valid build order.
 */
export function stageDeps(stages: readonly Stage[], s: Stage): number[] {
  const out = new Set<number>();
  const add = (ref: string | undefined) => {
    const d = ref === undefined ? undefined : findStage(stages, ref, s.index);
    if (d) out.add(d.index);
  };
  add(s.base);
  for (const ins of s.instructions) {
    if (ins.keyword === 'copy' || ins.keyword === 'add') add(flagValue(ins, 'from'));
    if (ins.keyword === 'run') {
      for (const f of ins.flags.filter((x) => x.startsWith('--mount='))) {
        const from = /(?:^|,)from=([^,]+)/.exec(f.slice('--mount='.length))?.[1];
        add(from);
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Whether two of `needed` could build at once: neither reaches the other through stageDeps. When
 * none can, a parallel build prints exactly what a sequential one does.
 */
export function hasIndependentStages(stages: readonly Stage[], needed: readonly Stage[]): boolean {
  const reach = new Map<number, Set<number>>();
  for (const s of needed) {
    const r = new Set<number>();
    for (const d of stageDeps(stages, s)) {
      r.add(d);
      for (const x of reach.get(d) ?? []) r.add(x);
    }
    reach.set(s.index, r);
  }
  for (const [i, a] of needed.entries()) {
    for (const b of needed.slice(i + 1)) if (!reach.get(b.index)!.has(a.index)) return true;
  }
  return false;
}

/** A stage by name, or by index as `COPY --from=0` gives it; only stages before `before` count. */
export function findStage(stages: readonly Stage[], ref: string, before: number): Stage | undefined {
  const lower = ref.toLowerCase();
  const byName = stages.find((s) => s.index < before && s.name === lower);
  if (byName) return byName;
  if (/^\d+$/.test(ref)) {
    const i = Number(ref);
    if (i >= before) throw new BerthError('DOCKERFILE_INVALID', `invalid stage index ${ref}: a stage can only copy from an earlier one`);
    return stages[i];
  }
  return undefined;
}

/** The value of `--name=value` among an instruction's flags (the last one wins). */
export function flagValue(ins: Instruction, name: string): string | undefined {
  let out: string | undefined;
  for (const f of ins.flags) {
    if (f === `--${name}`) out = 'true';
    else if (f.startsWith(`--${name}=`)) out = f.slice(name.length + 3);
  }
  return out;
}

/** Every value of a repeatable `--name=value` flag, in order. */
export function flagValues(ins: Instruction, name: string): string[] {
  return ins.flags.filter((f) => f.startsWith(`--${name}=`)).map((f) => f.slice(name.length + 3));
}

/** Refuses flags an instruction does not take (or that berth does not do yet). */
export function checkFlags(ins: Instruction, allowed: readonly string[]): void {
  for (const f of ins.flags) {
    const name = f.replace(/^--/, '').split('=')[0]!;
    if (!allowed.includes(name)) {
      throw new BerthError('DOCKERFILE_INVALID', `${ins.keyword.toUpperCase()} --${name} is not supported (line ${ins.startLine})`);
    }
  }
}
