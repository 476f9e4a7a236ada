import { CommanderError, type Command, type Option } from 'commander';

/**
 * Usage errors in podman's words. podman's CLI is cobra: an unknown flag, a flag without its
 * value or the wrong number of arguments is one `Error:` line (flag errors add cobra's "See
 * '… --help'" line), and the exit code is 125. Commander finds the same mistakes; this only
 * rewrites what it says. Scripts and podman's own tests match on these texts.
 */

/** `berth container ps`: the command as typed, as cobra's CommandPath gives it. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

const seeHelp = (cmd: Command) => `See '${commandPath(cmd)} --help'`;

/** cobra's argument-count validators (ExactArgs, MaximumNArgs, MinimumNArgs, podman's NoArgs). */
function argumentCountError(cmd: Command): string {
  const declared = cmd.registeredArguments;
  const min = declared.filter((a) => a.required).length;
  const max = declared.at(-1)?.variadic ? Infinity : declared.length;
  const received = cmd.args.length;
  if (max === 0) return `\`${commandPath(cmd)}\` takes no arguments`;
  if (min === max) return `accepts ${max} arg(s), received ${received}`;
  if (received > max) return `accepts at most ${max} arg(s), received ${received}`;
  return `requires at least ${min} arg(s), only received ${received}`;
}

/** Whether `arg` (`--name`, `--name=v`, `-x`) is one of the command's own options. */
function isOption(cmd: Command, arg: string): boolean {
  const name = arg.split('=')[0];
  return cmd.options.some((o) => o.long === name || o.short === name) || name === '-h' || name === '--help';
}

function optionByFlags(cmd: Command, flags: string | undefined): Option | undefined {
  return cmd.options.find((o) => o.flags === flags);
}

/** cobra names a flag by how it was typed: `--time`, or `'s' in -s` for a shorthand. */
function typedFlag(option: Option | undefined, argv: string[]): string {
  const last = argv.at(-1) ?? '';
  if (option?.short && /^-[^-]/.test(last) && last.endsWith(option.short.slice(1))) return `'${option.short.slice(1)}' in ${last}`;
  return option?.long ?? option?.short ?? '';
}

/** Commander's "(Did you mean one of a, b?)" as cobra's list of suggestions. */
function suggestions(message: string): string {
  const m = /\(Did you mean (?:one of )?(.+)\?\)/.exec(message);
  if (!m) return '';
  return `\n\nDid you mean this?\n${m[1]!
    .split(', ')
    .map((s) => `\t${s}\n`)
    .join('')}`;
}

/**
 * What to print on stderr for a usage error `err` raised by `cmd` while parsing `argv` (the words
 * after the program's name), or undefined when it is no error (help or a version was asked for).
 */
export function usageErrorText(err: CommanderError, cmd: Command, argv: string[]): string | undefined {
  if (err.exitCode === 0) return undefined;
  const message = err.message;
  switch (err.code) {
    case 'commander.unknownOption': {
      const flag = /unknown option '([^']*)'/.exec(message)?.[1] ?? '';
      const [name = '', ...value] = flag.split('=');
      // `--noheading=x`: commander gives a boolean flag no value, where cobra would parse one.
      const known = value.length > 0 && cmd.options.some((o) => o.long === name);
      const what = known
        ? `invalid argument "${value.join('=')}" for "${name}" flag: the flag takes no value`
        : flag.startsWith('--')
          ? `unknown flag: ${name}`
          : `unknown shorthand flag: '${flag.charAt(1)}' in ${flag}`;
      return `Error: ${what}\n${seeHelp(cmd)}\n`;
    }
    case 'commander.optionMissingArgument': {
      const option = optionByFlags(cmd, /option '(.+)' argument missing/.exec(message)?.[1]);
      return `Error: flag needs an argument: ${typedFlag(option, argv)}\n${seeHelp(cmd)}\n`;
    }
    case 'commander.invalidArgument': {
      const m = /^error: option '(.+)' argument '(.*)' is invalid\.\s*(.*?)\.?$/s.exec(message);
      if (!m) break;
      const option = optionByFlags(cmd, m[1]);
      const reason = m[3] ? `: ${m[3].charAt(0).toLowerCase()}${m[3].slice(1)}` : '';
      return `Error: invalid argument "${m[2]}" for "${option?.long ?? m[1]}" flag${reason}\n${seeHelp(cmd)}\n`;
    }
    case 'commander.missingMandatoryOptionValue': {
      const option = optionByFlags(cmd, /required option '(.+)' not specified/.exec(message)?.[1]);
      return `Error: required flag(s) "${option?.attributeName() ?? ''}" not set\n`;
    }
    case 'commander.missingArgument':
    case 'commander.excessArguments':
      return `Error: ${argumentCountError(cmd)}\n`;
    case 'commander.unknownCommand': {
      // cobra parses the flags before it looks at the command word: `berth bad --invalid` is a bad flag.
      const flag = cmd.args.find((a) => a.startsWith('-') && a !== '-' && a !== '--' && !isOption(cmd, a));
      if (flag !== undefined) return usageErrorText(new CommanderError(err.exitCode, 'commander.unknownOption', `error: unknown option '${flag}'`), cmd, argv);
      const path = commandPath(cmd);
      const tried = cmd.args[0] ?? '';
      const hint = suggestions(message);
      return `Error: unrecognized command \`${path} ${tried}\`${hint}\nTry '${path} --help' for more information\n`;
    }
    case 'commander.help':
      // A command group without its subcommand: commander has printed the group's help.
      return `Error: missing command '${commandPath(cmd)} COMMAND'\n`;
  }
  return `Error: ${message.replace(/^error: /, '')}\n`;
}

/**
 * Sets every command under `root` to report its usage errors as podman does and to throw them
 * (as CommanderError) instead of exiting, so that the caller picks the exit code.
 */
export function reportUsageErrorsAsPodman(root: Command, argv: string[], write: (text: string) => void = (text) => void process.stderr.write(text)): void {
  const visit = (cmd: Command) => {
    cmd.configureOutput({ outputError: () => undefined });
    cmd.exitOverride((err) => {
      const text = usageErrorText(err, cmd, argv);
      if (text) write(text);
      throw err;
    });
    cmd.commands.forEach(visit);
  };
  visit(root);
}
