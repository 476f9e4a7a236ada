import { Command } from 'commander';
import { collect, type Define, type Lazy } from './container-commands.js';

const verb = (name: keyof typeof import('./commands/network.js')) => async () => ({ run: (await import('./commands/network.js'))[name] });

/** `berth network ...`, podman 4's verbs and flags. */
export function addNetworkCommands(define: Define, lazy: Lazy): void {
  define('network', () => {
    const network = new Command('network').description('Manage networks');
    network.addCommand(
      new Command('create')
        .description('Create a network (a bridge with its own subnet, through netavark)')
        .argument('[name]')
        .option('-d, --driver <driver>', 'bridge (default) or macvlan', 'bridge')
        .option('--subnet <cidr>', 'subnet in CIDR notation (repeatable)', collect, [])
        .option('--gateway <ip>', 'gateway of the subnet given in the same position (repeatable)', collect, [])
        .option('--ip-range <cidr>', 'allocate addresses from this range of the subnet (repeatable)', collect, [])
        .option('--ipv6', 'an IPv6 subnet too (one is picked when none is given)')
        .option('--internal', 'no route out of the network')
        .option('--disable-dns', "no name resolution between the network's containers")
        .option('--interface-name <name>', 'name of the bridge (macvlan: the parent interface)')
        .option('-l, --label <key=value>', 'set a label', collect, [])
        .option('-o, --opt <key=value>', 'driver option: mtu=, isolate=true|strict, vlan=, metric=; macvlan mode=, parent=', collect, [])
        .option('--ipam-driver <driver>', 'IP address management: host-local (the only one)')
        .option('--ignore', 'do not fail when the network exists already')
        .action(lazy(verb('runCreate'))),
    );
    network.addCommand(
      new Command('ls')
        .alias('list')
        .description('List networks')
        .option('-f, --filter <filter>', 'name=, id=, driver=, label=, dangling=, until=', collect, [])
        .option('--format <format>', 'pretty-print with a Go template, or json')
        .option('--no-trunc', 'do not truncate the network ID')
        .option('-n, --noheading', 'do not print column headings')
        .option('-q, --quiet', 'print only network names')
        .action(lazy(verb('runList'))),
    );
    network.addCommand(
      new Command('inspect')
        .description('Display the configuration of networks')
        .argument('<networks...>')
        .option('-f, --format <format>', 'Go template or json')
        .action(lazy(verb('runInspect'))),
    );
    network.addCommand(
      new Command('rm')
        .alias('remove')
        .description('Remove networks')
        .argument('<networks...>')
        .option('-f, --force', 'remove the containers that use the network too')
        .option('-t, --time <seconds>', 'seconds to wait for those containers to stop before killing them')
        .action(lazy(verb('runRemove'))),
    );
    network.addCommand(
      new Command('prune')
        .description('Remove networks no container uses')
        .option('-f, --force', 'do not ask for confirmation')
        .option('--filter <filter>', 'label=, until=', collect, [])
        .action(lazy(verb('runPrune'))),
    );
    network.addCommand(
      new Command('exists')
        .description('Exit 0 when a network exists, 1 when not')
        .argument('<network>')
        .action(lazy(verb('runExists'))),
    );
    network.addCommand(
      new Command('connect')
        .description('Connect a container to a network')
        .argument('<network>')
        .argument('<container>')
        .option('--alias <name>', 'another name the container is found by on this network', collect, [])
        .option('--ip <address>', 'a static IPv4 address')
        .option('--ip6 <address>', 'a static IPv6 address')
        .option('--mac-address <address>', 'a static MAC address')
        .action(lazy(verb('runConnect'))),
    );
    network.addCommand(
      new Command('disconnect')
        .description('Disconnect a container from a network')
        .argument('<network>')
        .argument('<container>')
        .option('-f, --force', 'accepted for podman compatibility')
        .action(lazy(verb('runDisconnect'))),
    );
    network.addCommand(
      new Command('reload')
        .description('Put the firewall rules of running containers back (after a firewall reload)')
        .argument('[containers...]')
        .option('-a, --all', 'every running container')
        .option('-l, --latest', 'the latest container')
        .action(lazy(verb('runReload'))),
    );
    return network;
  });
}
