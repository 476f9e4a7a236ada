import { reportUsageErrorsAsPodman } from './usage-errors.js';
import { Command, CommanderError } from 'commander';
import { addContainerCommands } from './container-commands.js';
import { addManifestCommands } from './manifest-commands.js';
import { addVolumeCommands } from './volume-commands.js';
import { addSecretCommands } from './secret-commands.js';
import { addNetworkCommands } from './network-commands.js';
import { addPodCommands } from './pod-commands.js';
import { addKubeCommands } from './kube-commands.js';
import { addImageCommands } from './image-commands.js';
import { addRegistryCommands } from './registry-commands.js';
import { addSystemCommands } from './system-commands.js';
import type { GlobalOptions } from './context.js';
import { normalizePflagSyntax } from './bool-flags.js';
import { GLOBAL_OPTIONS_WITH_VALUE, applyGlobalOptions, declareGlobalOptions } from './global-options.js';
import { VERSION } from '../util/version.js';
import { enterUserNamespace } from '../engine/system/index.js';
import { lightStdio } from './light-stdio.js';

/**
 * The berth command line. Commands are declared by noun in the `*-commands.ts` beside this file and
 * their code is loaded only when one runs (each is its own bundle chunk), so a short command pays
 * for nothing else.
 */
const program = declareGlobalOptions(new Command('berth').description('A daemonless container engine'))
  .version(`berth version ${VERSION}`, '-v, --version', 'print the version')
  .enablePositionalOptions()
  .showSuggestionAfterError()
  .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'Error: ')) })
  .exitOverride();

/**
 * Each top-level command's declaration, made only when needed: building commander's whole tree
 * took ~20 ms of every start. The command being run is declared alone; help, an alias or a
 * mistyped name declares them all (in `listed()`'s order) so commander lists and suggests them.
 */
const declarations = new Map<string, () => Command>();
function command(name: string, make: () => Command, aliases: string[] = []): void {
  for (const n of [name, ...aliases]) declarations.set(n, make);
}

/**
 * Every declaration once (an alias names the same one), by name: `berth --help` lists the commands
 * alphabetically, as podman's help does, whichever file declares them.
 */
function listed(): Set<() => Command> {
  return new Set([...declarations.keys()].sort().map((name) => declarations.get(name)!));
}

/** The first word that is not a global option or its value: the command's name. */
function commandWord(argv: string[]): string | undefined {
  const withValue = GLOBAL_OPTIONS_WITH_VALUE;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (withValue.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * Whether the command works on the store or containers, so a rootless user's berth must run it
 * inside the user namespace: everything but help and the version.
 */
function needsUserNamespace(argv: string[]): boolean {
  const word = commandWord(argv);
  if (word === undefined || word === 'help' || word === 'version') return false;
  const globals = argv.slice(0, argv.indexOf(word));
  return !globals.some((a) => a === '-h' || a === '--help' || a === '-v' || a === '--version');
}

function declare(argv: string[]): void {
  const word = commandWord(argv);
  const only = word === undefined ? undefined : declarations.get(word);
  if (only) program.addCommand(only());
  else for (const make of listed()) program.addCommand(make());
  // pflag's `--flag=false`, rewritten in place for commander now that the command is declared.
  process.argv.splice(2, Infinity, ...normalizePflagSyntax(program, argv));
}

// The global options are checked, and stdout and the runtime flags set, before any command runs.
program.hook('preAction', (_program, action) => applyGlobalOptions(program, action));

// biome-ignore lint/suspicious/noExplicitAny: commander hands each command its own argument shapes
type Handler = (globals: GlobalOptions, ...args: any[]) => Promise<number | void>;

/** Wires a command to `commands/<file>.ts`, imported on first use. */
function lazy(load: () => Promise<{ run: Handler }>) {
  return async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    const { run } = await load();
    const code = await run(program.opts<GlobalOptions>(), ...args.slice(0, -1));
    if (typeof code === 'number') process.exitCode = code;
    void cmd;
  };
}

addImageCommands(command, lazy);
addRegistryCommands(command, lazy);
addSystemCommands(command, lazy);
addContainerCommands(command, lazy);
addVolumeCommands(command, lazy);
addManifestCommands(command, lazy);
addSecretCommands(command, lazy);
addNetworkCommands(command, lazy);
addPodCommands(command, lazy);
addKubeCommands(command, lazy);

async function main(): Promise<void> {
  try {
    if (process.getuid?.() !== 0 && needsUserNamespace(process.argv.slice(2))) await enterUserNamespace(process.argv.slice(2));
    declare(process.argv.slice(2));
    reportUsageErrorsAsPodman(program, process.argv.slice(2));
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version print and exit 0; usage errors are engine errors, as in podman
      process.exitCode = e.exitCode === 0 ? 0 : 125;
      return;
    }
    const { reportError } = await import('./context.js');
    process.exitCode = reportError(e);
  }
}

/**
 * stdout and stderr, made when the command first uses them (not at start: making a stream on a
 * pipe cost a command that prints nothing, like `container exists` or conmon's cleanup call, 2-4
 * ms), and for a file or a pipe lighter than Node's own (light-stdio.ts).
 *
 * A reader that stops early (`berth ps | head -1`) closes the pipe: berth stops there quietly, with
 * the status a Go program killed by SIGPIPE leaves (128 + 13), not with Node's unhandled EPIPE
 * trace.
 */
function lazyStdio(name: 'stdout' | 'stderr', fd: 1 | 2): void {
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(128 + 13);
    throw e;
  };
  const nodeGetter = Object.getOwnPropertyDescriptor(process, name);
  if (!nodeGetter?.get || !nodeGetter.configurable) {
    process[name].on('error', onError);
    return;
  }
  const nodeStream = () => nodeGetter.get!.call(process) as NodeJS.WriteStream;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: nodeGetter.enumerable ?? true,
    get() {
      const light = lightStdio(fd, nodeStream);
      // Node's own getter back when Node's stream is the one (it keeps the stream it made).
      if (light) Object.defineProperty(process, name, { configurable: true, enumerable: nodeGetter.enumerable ?? true, get: () => light });
      else Object.defineProperty(process, name, nodeGetter);
      const stream = light ?? nodeStream();
      stream.on('error', onError);
      return stream;
    },
  });
}
lazyStdio('stdout', 1);
lazyStdio('stderr', 2);

await main();
