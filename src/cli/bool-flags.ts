import { Option, type Command } from 'commander';

/**
 * podman's flag parser (pflag) takes a boolean flag with an explicit value: `--rm=false`,
 * `--tty=true`, `-i=false`. commander takes `--rm` and `--no-rm` only. This rewrites the
 * command line for commander before it parses: `--x=true` becomes `--x`, `--x=false` becomes
 * `--no-x` (declared, hidden, on the command when it is missing, so that the last of several
 * flags still wins, as in pflag), and a short flag's `-s=VALUE` becomes `-s VALUE`. Only the flags of the command the words select are
 * touched; a flag's value word and everything after `--`, or after the image of a command that
 * passes its own flags through (`run IMAGE CMD...`), are left as they are.
 */
export function normalizePflagSyntax(program: Command, args: readonly string[]): string[] {
  const out: string[] = [];
  let cmd = program;
  let optionsEnded = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (optionsEnded) {
      out.push(word);
    } else if (word === '--') {
      optionsEnded = true;
      out.push(word);
    } else if (word.startsWith('-') && word !== '-') {
      const eq = word.indexOf('=');
      const flag = eq > 0 ? word.slice(0, eq) : word;
      const option = cmd.options.find((o) => o.long === flag || o.short === flag);
      const value = eq > 0 ? word.slice(eq + 1) : undefined;
      if (option && takesNoValue(option) && (value === 'true' || value === 'false')) {
        out.push(...explicitBoolean(cmd, option, value === 'true'));
        continue;
      }
      // pflag's `-s=TERM` is `-s TERM`; commander would take `=TERM` for the value.
      if (option && value !== undefined && flag === option.short && (option.required || option.optional)) {
        out.push(flag, value);
        continue;
      }
      out.push(word);
      // `--format json`, `-f json`: the next word is the value, whatever it looks like.
      const attached = eq > 0 || (!flag.startsWith('--') && flag.length > 2);
      if (option?.required && !attached && i + 1 < args.length) out.push(args[++i]!);
    } else {
      out.push(word);
      const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
      if (sub) cmd = sub;
      else if (passesOptionsThrough(cmd)) optionsEnded = true;
    }
  }
  return out;
}

function takesNoValue(o: Option): boolean {
  return !o.required && !o.optional && o.long !== undefined;
}

/** The words that say `option` is `on`: the flag alone, its negation, or nothing (a negation turned off is its default). */
function explicitBoolean(cmd: Command, option: Option, on: boolean): string[] {
  const long = option.long!;
  if (option.negate) return on ? [long] : [];
  if (on) return [long];
  const negation = `--no-${long.slice(2)}`;
  if (!cmd.options.some((o) => o.long === negation)) cmd.addOption(new Option(negation).hideHelp());
  return [negation];
}

/** `run IMAGE CMD --flag`: the words after the first argument are the container's, not ours. */
function passesOptionsThrough(cmd: Command): boolean {
  // commander keeps this setting private; it is what passThroughOptions() sets.
  return (cmd as unknown as { _passThroughOptions?: boolean })._passThroughOptions === true;
}
