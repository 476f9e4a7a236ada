import { Command, Option } from 'commander';
import { withMoreCreateFlags, withMoreRunFlags } from './create-flags-more.js';

/** Declares a top-level command (and the aliases that name it) without building it yet. */
export type Define = (name: string, make: () => Command, aliases?: string[]) => void;

// biome-ignore lint/suspicious/noExplicitAny: commander hands each command its own argument shapes
export type Lazy = (load: () => Promise<{ run: (...args: any[]) => Promise<number | void> }>) => (...args: unknown[]) => Promise<void>;

/** A repeatable option's values, in order. */
export const collect = (v: string, prev: string[]) => [...prev, v];
/** As collect, for a flag that stays undefined when not given. */
const collectGiven = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** The flags `run` and `create` share, as podman names them. */
function withCreateFlags(cmd: Command): Command {
  return withMoreCreateFlags(
    cmd
      // Everything after the image is the container's command, flags included.
      .passThroughOptions()
      .argument('<image>')
      .argument('[command...]')
      .option('--name <name>', 'assign a name to the container')
      .option('-e, --env <KEY=VALUE>', "set an environment variable (KEY alone takes the host's value)", collect, [])
      .option('--env-file <file>', 'read environment variables from a file', collect, [])
      .option('--entrypoint <cmd>', "override the image's entrypoint (a string, or a JSON array)")
      .option('-u, --user <user[:group]>', 'user (name or UID) to run as')
      .option('-w, --workdir <dir>', 'working directory inside the container')
      .option('-h, --hostname <name>', 'container host name')
      .option('--add-host <host:ip>', 'add a line to /etc/hosts (repeatable, or comma-separated)', collect, [])
      .option('--dns <ip>', 'a DNS server for resolv.conf (repeatable, or comma-separated)', collect, [])
      .option('--dns-search <domain>', 'a DNS search domain, or . for none (repeatable, or comma-separated)', collect, [])
      .option('--dns-option <option>', 'a resolv.conf option (repeatable, or comma-separated)', collect, [])
      .addOption(new Option('--dns-opt <option>', "same as --dns-option (podman's older spelling)").hideHelp().argParser(collectGiven))
      .option('-i, --interactive', 'keep stdin open')
      .option('-t, --tty', 'allocate a pseudo-TTY')
      .option('-l, --label <key=value>', 'set a label', collect, [])
      .option('--annotation <key=value>', 'add an annotation to the OCI spec', collect, [])
      .option('--rm', 'remove the container when it exits')
      .option('--replace', 'replace an existing container of the same name')
      .option('--restart <policy>', 'restart policy: no, on-failure[:max-retries], always, unless-stopped')
      .option('--runtime <runtime>', 'OCI runtime: crun (default), runc or a path')
      .option('--network <mode>', 'network: the default bridge, NAME[,NAME…], none, host, slirp4netns, container:NAME or ns:PATH', collectGiven)
      .addOption(new Option('--net <mode>', 'same as --network').hideHelp().argParser(collectGiven))
      .option('-v, --volume <spec>', 'bind mount a volume: NAME:/path, /host:/path[:ro,z] or /path', collect, [])
      .option('--mount <spec>', 'attach a mount: type=bind|volume|tmpfs,...', collect, [])
      .option('--tmpfs <path[:options]>', 'mount a tmpfs', collect, [])
      .option('--secret <spec>', 'give the container a secret: NAME[,type=mount|env][,target=PATH|VAR][,mode=0444][,uid=0][,gid=0] (repeatable)', collect, [])
      .option('--privileged', 'give the container all capabilities and devices, no seccomp')
      .option('--cap-add <cap>', 'add a capability (or ALL)', collect, [])
      .option('--cap-drop <cap>', 'drop a capability (or ALL)', collect, [])
      .option('--security-opt <opt>', 'no-new-privileges, seccomp=unconfined|FILE, label=disable', collect, [])
      .option('--read-only', 'mount the root file system read-only')
      .option('--init', 'run an init inside the container that forwards signals and reaps processes')
      .option('-m, --memory <limit>', 'memory limit (e.g. 512m, 1g)')
      .option('--cpus <n>', 'number of CPUs')
      .option('--pids-limit <n>', 'process limit (-1 for none)')
      .option('--ulimit <name=soft[:hard]>', 'ulimit options', collect, [])
      .option('--stop-signal <signal>', 'signal to stop the container')
      .option('--stop-timeout <seconds>', 'seconds to wait before killing the container on stop')
      .option('--health-cmd <command>', "a command to check the container's health (a shell command, a JSON array, or none)")
      .option('--health-interval <duration>', 'how often to run the healthcheck (default 30s; disable: only when asked)')
      .option('--health-retries <n>', 'failures in a row before the container is unhealthy (default 3)')
      .option('--health-start-period <duration>', 'time to start up, during which failures do not count (default 0s)')
      .option('--health-timeout <duration>', 'the longest a healthcheck may take (default 30s)')
      .option('--health-on-failure <action>', 'what to do when the container turns unhealthy: none (default), kill, restart, stop')
      .option('--no-healthcheck', "disable the image's healthcheck")
      .addOption(new Option('--pull <policy>', 'pull the image: missing, always, never, newer').default('missing'))
      .option('-q, --quiet', 'suppress the pull output')
      .option('--tls-verify [bool]', 'require HTTPS and verify certificates when pulling')
      .option('--authfile <path>', 'path of the authentication file')
      .option('--cert-dir <dir>', 'certificates for the registry')
      .option('--creds <user:password>', 'credentials for the registry')
      .option('--signature-policy <file>', "the trust policy (policy.json) to pull a missing image under, instead of the user's or the system's")
      .option('--registries.d <dir>', 'the registries.d folder saying where signatures are found'),
  );
}

function psCommand(name: string, lazy: Lazy) {
  return (
    new Command(name)
      .description('List containers')
      .option('-a, --all', 'show all containers, not only running ones')
      .option('-q, --quiet', 'print only container IDs')
      .option('--no-trunc', 'do not truncate output')
      .option('-n, --noheading', 'do not print column headings')
      .option('-l, --latest', 'show the latest container created')
      .option('--last <n>', 'show the n last created containers')
      .option('-s, --size', "show the containers' sizes")
      .option('-f, --filter <filter>', 'filter output (status=, name=, id=, ancestor=, label=, exited=, restart-policy=)', collect, [])
      .option('--format <format>', 'pretty-print with a Go template, or json')
      .option('-p, --pod', 'show the pod ID and name of each container')
      .option('--sort <field>', 'sort by command, created, id, image, names, runningfor, size or status', 'created')
      // podman lists buildah's containers with it; berth's builds leave none behind, so the list is the same.
      .option('--external', 'also list containers made outside run and create (builds leave none)')
      .action(lazy(() => import('./commands/ps.js')))
  );
}

function rmCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Remove one or more containers')
    .argument('[containers...]')
    .option('-a, --all', 'remove all containers')
    .option('-f, --force', 'stop and remove running containers')
    .option('-i, --ignore', 'ignore errors when a container does not exist')
    .option('-v, --volumes', 'remove the anonymous volumes of the container')
    .option('-t, --time <seconds>', 'seconds to wait for a running container to stop before killing it')
    .option('-l, --latest', 'remove the container created last')
    .option('--depend', 'first remove the containers that depend on it (--network container:)')
    .action(lazy(() => import('./commands/rm.js')));
}

function inspectContainerCommand(name: string, lazy: Lazy) {
  return (
    new Command(name)
      .description('Display the configuration of a container')
      .argument('[containers...]')
      .option('-f, --format <format>', 'format the output using a Go template, or json')
      .option('-s, --size', "show the container's size")
      .option('-l, --latest', 'the container created last')
      // The top-level inspect, narrowed to containers (the same output and errors).
      .action(
        lazy(async () => {
          const { runAny } = await import('./commands/inspect.js');
          return { run: (g: Parameters<typeof runAny>[0], names: string[], opts: { format?: string }) => runAny(g, names, { ...opts, type: 'container' }) };
        }),
      )
  );
}

/** Declares the container commands, both at the top level (`berth run`) and under `berth container`. */
export function addContainerCommands(define: Define, lazy: Lazy): void {
  const subcommands: (() => Command)[] = [];
  /** At the top level and under `container`; aliases as podman has them at each place. */
  const both = (make: (name: string) => Command, name: string, aliases: { top?: string[]; sub?: string[] } = {}) => {
    define(
      name,
      () => {
        const top = make(name);
        for (const a of aliases.top ?? []) top.alias(a);
        return top;
      },
      aliases.top,
    );
    subcommands.push(() => {
      const sub = make(name);
      for (const a of aliases.sub ?? []) sub.alias(a);
      return sub;
    });
  };
  both(
    (n) =>
      withMoreRunFlags(
        withCreateFlags(new Command(n).description('Run a command in a new container'))
          .option('-d, --detach', 'run in the background and print the container ID')
          .option('--sig-proxy [bool]', 'forward signals to the container (default true without a TTY)')
          .option('--detach-keys <keys>', 'the key sequence that detaches from the container (default ctrl-p,ctrl-q; "" for none)'),
      ).action(lazy(() => import('./commands/run.js'))),
    'run',
  );
  both((n) => withCreateFlags(new Command(n).description('Create but do not start a container')).action(lazy(() => import('./commands/create.js'))), 'create');
  both(
    (n) =>
      new Command(n)
        .description('Start one or more containers')
        .argument('[containers...]')
        .option('--all', 'start every container that is not running')
        .option('-f, --filter <filter>', 'start only the containers that match (status=, name=, id=, label=, restart-policy=, ...)', collect, [])
        .option('-a, --attach', "attach to the container's output")
        .option('-i, --interactive', "attach the container's stdin")
        .option('--detach-keys <keys>', 'the key sequence that detaches from the container (default ctrl-p,ctrl-q; "" for none)')
        .action(lazy(() => import('./commands/start.js'))),
    'start',
  );
  both(
    (n) =>
      new Command(n)
        .description('Stop one or more containers')
        .argument('[containers...]')
        .option('-a, --all', 'stop all running containers')
        .option('-i, --ignore', 'ignore errors when a container does not exist')
        .option('-t, --time <seconds>', 'seconds to wait before killing the container')
        .addOption(new Option('--timeout <seconds>', 'the same as --time').hideHelp())
        .action(lazy(() => import('./commands/stop.js'))),
    'stop',
  );
  both(
    (n) =>
      new Command(n)
        .description('Restart one or more containers')
        .argument('[containers...]')
        .option('-a, --all', 'restart all containers')
        .option('--running', 'restart only running containers')
        .option('-t, --time <seconds>', 'seconds to wait before killing the container')
        .action(lazy(async () => ({ run: (await import('./commands/stop.js')).runRestart }))),
    'restart',
  );
  both(
    (n) =>
      new Command(n)
        .description('Send a signal to one or more containers')
        .argument('[containers...]')
        .option('-a, --all', 'signal all running containers')
        .option('-s, --signal <signal>', 'signal to send', 'KILL')
        .action(
          lazy(async () => {
            const [{ runKill }, { parseSignal }] = await Promise.all([import('./commands/stop.js'), import('./commands/_signal.js')]);
            // Checked before any container is looked up, as podman does; the runtime gets the number.
            return {
              run: (g: Parameters<typeof runKill>[0], names: string[], f: Parameters<typeof runKill>[2]) =>
                runKill(g, names, { ...f, signal: String(parseSignal(f.signal)) }),
            };
          }),
        ),
    'kill',
  );
  both((n) => rmCommand(n, lazy), 'rm');
  both((n) => psCommand(n, lazy), 'ps', { sub: ['list', 'ls'] });
  both(
    (n) =>
      new Command(n)
        .description('Fetch the logs of a container')
        .argument('<containers...>')
        .option('-f, --follow', 'follow the log output')
        .option('--tail <n>', 'output the last n lines (-1 for all)')
        .option('--since <time>', 'show logs since a timestamp or duration (e.g. 10m)')
        .option('--until <time>', 'show logs until a timestamp or duration')
        .option('-t, --timestamps', 'show timestamps')
        .option('-n, --names', 'prefix each line with the container name')
        .action(lazy(() => import('./commands/logs.js'))),
    'logs',
  );
  both(
    (n) =>
      new Command(n)
        .description('Block until containers stop, then print their exit codes')
        .argument('<containers...>')
        .option('--condition <state>', 'state to wait for (default stopped)', collect, [])
        .option('-i, --ignore', 'ignore containers that do not exist')
        .action(lazy(async () => ({ run: (await import('./commands/stop.js')).runWait }))),
    'wait',
  );
  both(
    (n) =>
      new Command(n)
        .description('Run a process in a running container')
        .passThroughOptions()
        .argument('<container>')
        .argument('<command...>')
        .option('-i, --interactive', 'keep stdin open')
        .option('-t, --tty', 'allocate a pseudo-TTY')
        .option('-d, --detach', 'run the process in the background')
        .option('-e, --env <KEY=VALUE>', 'set an environment variable', collect, [])
        .option('--env-file <file>', 'read environment variables from a file', collect, [])
        .option('-u, --user <user[:group]>', 'user to run as')
        .option('-w, --workdir <dir>', 'working directory')
        .option('--privileged', 'give the process all capabilities')
        .option('--detach-keys <keys>', 'the key sequence that detaches from the process (default ctrl-p,ctrl-q; "" for none)')
        .action(lazy(() => import('./commands/exec.js'))),
    'exec',
  );
  both(
    (n) =>
      new Command(n)
        .description('Attach to a running container')
        .argument('<container>')
        .option('--no-stdin', 'do not attach stdin')
        .option('--sig-proxy [bool]', 'forward signals to the container')
        .option('--detach-keys <keys>', 'the key sequence that detaches from the container (default ctrl-p,ctrl-q; "" for none)')
        .action(lazy(async () => ({ run: (await import('./commands/start.js')).runAttach }))),
    'attach',
  );
  both(
    (n) =>
      new Command(n)
        .description('Pause all processes in containers')
        .argument('[containers...]')
        .option('-a, --all', 'pause all running containers')
        .action(lazy(async () => ({ run: (await import('./commands/stop.js')).runPause }))),
    'pause',
  );
  both(
    (n) =>
      new Command(n)
        .description('Unpause the processes in containers')
        .argument('[containers...]')
        .option('-a, --all', 'unpause all paused containers')
        .action(lazy(async () => ({ run: (await import('./commands/stop.js')).runUnpause }))),
    'unpause',
  );
  both(
    (n) =>
      new Command(n)
        .description('Rename a container')
        .argument('<container>')
        .argument('<name>')
        .action(lazy(async () => ({ run: (await import('./commands/stop.js')).runRename }))),
    'rename',
  );
  both(
    (n) =>
      new Command(n)
        .description('List the published ports of a container, or the host address of one of its ports')
        .argument('[container]')
        .argument('[port]', 'PORT[/PROTOCOL]: print only where it is published')
        .option('-a, --all', 'the ports of every container')
        .option('-l, --latest', 'the latest container')
        .action(lazy(async () => ({ run: (await import('./commands/port.js')).run }))),
    'port',
  );
  both(
    (n) =>
      new Command(n)
        .description('Display the running processes of a container')
        .argument('<container>')
        .argument('[descriptors...]', "podman's descriptors, or ps(1)'s own options (-eo pid,comm), run with the container's ps")
        // `top CTR -eo pid,comm`: the words after the container are ps's, not ours.
        .passThroughOptions()
        .action(lazy(async () => ({ run: (await import('./commands/top.js')).run }))),
    'top',
  );
  both(
    (n) =>
      new Command(n)
        .description('Display resource use of containers')
        .argument('[containers...]')
        .option('-a, --all', 'show all containers')
        .option('--no-stream', 'print one sample and exit')
        .option('--no-trunc', 'do not truncate output')
        .option('--format <format>', 'pretty-print with a Go template, or json')
        .option('-i, --interval <seconds>', 'seconds between samples (default 5)')
        .option('--no-reset', 'do not clear the terminal between samples')
        .action(lazy(() => import('./commands/stats.js'))),
    'stats',
  );
  both(
    (n) =>
      new Command(n)
        .description('Copy files between a container and the local file system (- for a tar stream)')
        .argument('[paths...]', 'SOURCE and DESTINATION: [CONTAINER:]PATH, or - for a tar stream')
        .option('-a, --archive [bool]', 'chown copied files to the primary uid/gid of the destination container (default true)')
        .option('--overwrite', 'allow to overwrite directories with non-directories and vice versa')
        .action(lazy(async () => ({ run: (await import('./commands/cp.js')).run }))),
    'cp',
  );
  both(
    (n) =>
      new Command(n)
        .description("Export a container's file system as a tar archive")
        .argument('<container>')
        .option('-o, --output <file>', 'write to a file (default: stdout)')
        .action(lazy(async () => ({ run: (await import('./commands/cp.js')).runExport }))),
    'export',
  );
  both(
    (n) =>
      new Command(n)
        .description("Show the changes to a container's file system")
        .argument('[container]')
        .option('--format <format>', 'json, or a Go template')
        .option('-l, --latest', 'the container created last')
        .action(lazy(async () => ({ run: (await import('./commands/cp.js')).runDiff }))),
    'diff',
  );
  both(
    (n) =>
      new Command(n)
        .description("Mount a container's root file system and print where")
        .argument('[containers...]')
        .option('--no-trunc', 'do not truncate IDs')
        .addOption(new Option('--notruncate', 'the same as --no-trunc').hideHelp())
        .action(lazy(async () => ({ run: (await import('./commands/cp.js')).runMount }))),
    'mount',
  );
  both(
    (n) =>
      new Command(n)
        .description("Unmount a container's root file system")
        .argument('[containers...]')
        .option('-a, --all', 'unmount all containers')
        .option('-f, --force', 'unmount even when mounted several times')
        .action(lazy(async () => ({ run: (await import('./commands/cp.js')).runUnmount }))),
    'unmount',
    { top: ['umount'], sub: ['umount'] },
  );
  both(
    (n) =>
      new Command(n)
        .description("Create a new image from a container's changes")
        .argument('<container>')
        .argument('[image]')
        .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the image config', collect, [])
        .option('-m, --message <message>', 'commit message')
        .option('-a, --author <author>', 'author of the image')
        .option('-p, --pause [bool]', 'pause the container while committing (default true)')
        .addOption(new Option('-f, --format <format>', 'image format').choices(['oci', 'docker']).default('oci'))
        .option('-q, --quiet', 'print only the image ID')
        .option('--squash', 'accepted for podman compatibility')
        .action(lazy(async () => ({ run: (await import('./commands/commit.js')).run }))),
    'commit',
  );
  define('healthcheck', () =>
    new Command('healthcheck').description('Manage healthchecks of containers').addCommand(
      new Command('run')
        .description("Run the container's healthcheck once: exit 0 when healthy, 1 (printing the status) when not")
        .argument('<container>')
        .addOption(new Option('--ignore-result', "exit 0 whatever the result (the healthcheck timer's way)").hideHelp())
        .action(lazy(() => import('./commands/healthcheck.js'))),
    ),
  );
  define('container', () => {
    const container = new Command('container').description('Manage containers').enablePositionalOptions();
    for (const make of subcommands) container.addCommand(make());
    container.addCommand(inspectContainerCommand('inspect', lazy));
    container.addCommand(
      new Command('prune')
        .description('Remove all stopped containers')
        .option('-f, --force', 'do not prompt for confirmation')
        .option('--filter <filter>', 'label= or until=', collect, [])
        .action(lazy(async () => ({ run: (await import('./commands/container-prune.js')).run }))),
    );
    container.addCommand(
      new Command('exists')
        .description('Exit 0 if the container exists, 1 if not')
        .argument('<container>')
        .action(lazy(async () => ({ run: (await import('./commands/rm.js')).runExists }))),
    );
    // conmon calls this when a container exits: hidden, as podman's is.
    container.addCommand(
      new Command('cleanup')
        .description('Clean up after a container exited')
        .argument('<container>')
        .option('--rm', 'remove the container')
        .action(lazy(async () => ({ run: (await import('./commands/stop.js')).runCleanup }))),
      { hidden: true },
    );
    return container;
  });
}
