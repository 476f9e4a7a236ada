import { Command } from 'commander';
import { collect, type Define, type Lazy } from './container-commands.js';

/** `events`, and the same as `system events`. */
function eventsCommand(lazy: Lazy): Command {
  return new Command('events')
    .description('Show berth events (by default, follow new ones until interrupted)')
    .option('-f, --filter <filter>', 'container=, image=, volume=, secret=, event=, type=, label= (same key ORed, different keys ANDed)', collect, [])
    .option('--format <format>', 'format the output using a Go template, or json')
    .option('--since <time>', 'show events since a timestamp, Unix time or duration (e.g. 10m)')
    .option('--until <time>', 'show events until a timestamp, Unix time or duration')
    .option('--stream [bool]', 'follow new events (default true; --stream=false prints the logged ones and exits)')
    .option('--no-trunc', 'accepted for podman compatibility: IDs are never truncated')
    .action(lazy(() => import('./commands/events.js')));
}

function systemGroup(lazy: Lazy): Command {
  const system = new Command('system').description('Manage berth');
  system.addCommand(
    new Command('df')
      .description('Show berth disk usage')
      .option('--format <format>', 'pretty-print with a Go template, or json')
      .option('-v, --verbose', 'show detailed information on disk usage')
      .action(lazy(() => import('./commands/df.js'))),
  );
  system.addCommand(infoCommand('info', lazy));
  system.addCommand(eventsCommand(lazy));
  system.addCommand(
    new Command('prune')
      .description('Remove unused data: stopped containers, dangling images, build cache (and unused volumes with --volumes)')
      .option('-a, --all', 'remove all unused images, not just dangling ones, and all build cache')
      .option('--volumes', 'also remove volumes no container uses')
      .option('-f, --force', 'do not prompt for confirmation')
      .action(lazy(() => import('./commands/system-prune.js'))),
  );
  system.addCommand(
    new Command('service')
      .description('Serve the Docker Engine API (docker, docker-compose, dockerode, testcontainers) on a socket')
      .argument('[uri]', 'unix:///path/to/sock (default unix:///run/berth/berth.sock as root) or tcp://HOST:PORT (TLS client certificates required)')
      .option('-t, --time <seconds>', 'stop after this many seconds without a request or an open stream; 0: never', '5')
      .option('--tls-cert <file>', 'tcp://: the server certificate')
      .option('--tls-key <file>', "tcp://: the server certificate's private key")
      .option('--tls-ca <file>', 'tcp://: accept only clients with a certificate this CA signed')
      .option('--group <name>', "unix://: the socket's group, whose members may use the API (default: docker where it exists, else root)")
      .action(lazy(() => import('./commands/system-service.js'))),
  );
  system.addCommand(
    new Command('migrate')
      .description('Rootless: stop running containers and make the user namespace anew, so a changed /etc/subuid or /etc/subgid takes effect')
      .action(lazy(() => import('./commands/system-migrate.js'))),
  );
  system.addCommand(
    new Command('reset')
      .description('Remove every container (stopping it), image, volume and the build cache of this store')
      .option('-f, --force', 'do not prompt for confirmation')
      .action(lazy(() => import('./commands/system-reset.js'))),
  );
  return system;
}

function infoCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Display berth system information')
    .option('-f, --format <format>', 'change the output format to json or a Go template')
    .action(lazy(() => import('./commands/info.js')));
}

/** berth itself: `system …` (df, info, events, prune, service, migrate, reset), `info`, `version`, `events` and `unshare`. */
export function addSystemCommands(define: Define, lazy: Lazy): void {
  define('events', () => eventsCommand(lazy));
  define('system', () => systemGroup(lazy));
  define('info', () => infoCommand('info', lazy));
  define('version', () =>
    new Command('version')
      .description('Display the berth version information')
      .option('-f, --format <format>', 'change the output format to json or a Go template')
      .action(lazy(() => import('./commands/version.js'))),
  );
  define('unshare', () =>
    new Command('unshare')
      .description("Run a command (default: your shell) inside berth's rootless user namespace")
      .argument('[command...]')
      .passThroughOptions()
      .action(lazy(() => import('./commands/unshare.js'))),
  );
}
