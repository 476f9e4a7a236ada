import { Command } from 'commander';
import { collect, type Define, type Lazy } from './container-commands.js';

const verb = (name: keyof typeof import('./commands/pod.js')) => async () => ({ run: (await import('./commands/pod.js'))[name] });

/** `--pod-id-file`, repeatable: the pods named by files `pod create --pod-id-file` wrote. */
const POD_ID_FILE = ['--pod-id-file <file>', "the pod whose ID is in this file (pod create's --pod-id-file)", collect, [] as string[]] as const;

/** The pod verbs that act on named pods or all of them (`-a`), as podman's. */
function podsVerb(name: string, description: string, run: Parameters<typeof verb>[0], lazy: Lazy): Command {
  return new Command(name)
    .description(description)
    .argument('[pods...]')
    .option('-a, --all', 'every pod')
    .action(lazy(verb(run)));
}

/** `berth pod ...`: podman's pods (a shared network, IPC and UTS namespace held by an infra container). */
export function addPodCommands(define: Define, lazy: Lazy): void {
  define('pod', () => {
    const pod = new Command('pod').description('Manage pods');
    pod.addCommand(
      new Command('create')
        .description('Create a pod: an infra container (catatonit -P) that holds the namespaces its containers share')
        .argument('[name]')
        .option('--name <name>', 'name of the pod')
        .option('-p, --publish <ports>', "publish the pod's ports (hostPort:containerPort)", collect, [])
        .option('--network <mode>', 'network of the pod (bridge, NAME, none, host, slirp4netns, pasta)', collect, [])
        .option('--share <namespaces>', 'namespaces to share: net, ipc, uts, pid (default net,ipc,uts)')
        .option('--infra [bool]', 'create an infra container (default true)')
        .option('--infra-command <command>', "the infra container's command (default catatonit -P)")
        .option('--infra-name <name>', 'name of the infra container')
        .option('--hostname <name>', "the pod's host name (default: its name)")
        .option('--add-host <host:ip>', 'add a line to /etc/hosts', collect, [])
        .option('--dns <server>', 'DNS server for the pod', collect, [])
        .option('--dns-search <domain>', 'DNS search domain', collect, [])
        .option('--dns-option <option>', 'DNS option', collect, [])
        .option('-l, --label <key=value>', 'set a label', collect, [])
        .option('--userns <mode>', 'user namespace (host only)')
        .option('--cpus <n>', "the pod's CPUs (a CFS quota on the pod's cgroup, shared by its containers)")
        .option('-m, --memory <size>', "the pod's memory limit (on the pod's cgroup, shared by its containers)")
        .option('--cpu-shares <n>', "the pod's CPU shares (relative weight)")
        .option('--cpuset-cpus <cpus>', 'CPUs the pod may run on (0-3, 0,1)')
        .option('--pod-id-file <file>', "write the pod's ID to this file")
        .option('--exit-policy <policy>', 'when the last container exits: continue, or stop the pod (default continue)')
        .option('--replace', 'replace a pod of the same name (its containers removed with it)')
        .action(lazy(async () => ({ run: (await import('./commands/pod-create.js')).runCreate }))),
    );
    pod.addCommand(
      new Command('ps')
        .aliases(['ls', 'list'])
        .description('List pods')
        .option('-f, --filter <filter>', 'name=, id=, label=, status=', collect, [])
        .option('--format <format>', 'pretty-print with a Go template, or json')
        .option('--ctr-names', 'show the names of the containers')
        .option('--ctr-ids', 'show the IDs of the containers')
        .option('--ctr-status', 'show the status of the containers')
        .option('-q, --quiet', 'print only pod IDs')
        .option('--no-trunc', 'do not truncate pod and container IDs')
        .option('-n, --noheading', 'do not print column headings')
        .action(lazy(verb('runList'))),
    );
    pod.addCommand(
      new Command('inspect')
        .description('Display the configuration of pods')
        .argument('<pods...>')
        .option('-f, --format <format>', 'Go template or json')
        .action(lazy(verb('runInspect'))),
    );
    pod.addCommand(
      new Command('exists')
        .description('Exit 0 when a pod exists, 1 when not')
        .argument('<pod>')
        .action(lazy(verb('runExists'))),
    );
    pod.addCommand(podsVerb('start', 'Start pods: the infra, then the containers', 'runStart', lazy).option(...POD_ID_FILE));
    pod.addCommand(
      podsVerb('stop', 'Stop pods: the containers, then the infra', 'runStop', lazy)
        .option('-t, --time <seconds>', 'seconds to wait before killing')
        .option(...POD_ID_FILE),
    );
    pod.addCommand(podsVerb('restart', 'Restart pods', 'runRestart', lazy).option('-t, --time <seconds>', 'seconds to wait before killing'));
    pod.addCommand(podsVerb('kill', "Send a signal to pods' running containers", 'runKill', lazy).option('-s, --signal <signal>', 'signal to send', 'KILL'));
    pod.addCommand(podsVerb('pause', "Pause pods' running containers", 'runPause', lazy));
    pod.addCommand(podsVerb('unpause', "Unpause pods' paused containers", 'runUnpause', lazy));
    pod.addCommand(
      podsVerb('rm', 'Remove pods and their containers', 'runRemove', lazy)
        .alias('remove')
        .option('-f, --force', 'stop and remove running containers')
        .option('-i, --ignore', 'ignore pods that do not exist')
        .option('-t, --time <seconds>', 'seconds to wait before killing')
        .option(...POD_ID_FILE),
    );
    pod.addCommand(
      new Command('prune')
        .description('Remove every pod with no running container')
        .option('-f, --force', 'do not ask for confirmation')
        .action(lazy(verb('runPrune'))),
    );
    pod.addCommand(
      new Command('top')
        .description("Display the running processes of a pod's containers")
        .argument('<pod>')
        .argument('[descriptors...]')
        .action(lazy(verb('runTop'))),
    );
    pod.addCommand(
      new Command('stats')
        .description("Display a live stream of pods' resource usage (one reading with --no-stream)")
        .argument('[pods...]')
        .option('-a, --all', 'every pod')
        .option('--no-stream', 'one reading, then exit')
        .option('--format <format>', 'pretty-print with a Go template, or json')
        .action(lazy(verb('runStats'))),
    );
    pod.addCommand(
      new Command('logs')
        .description("Fetch the logs of a pod's containers")
        .argument('<pod>')
        .option('-c, --container <name>', 'only this container')
        .option('-f, --follow', 'follow the log output')
        .option('--tail <n>', 'the last n lines')
        .option('-t, --timestamps', 'show timestamps')
        .option('-n, --names', 'prefix each line with the container name')
        .action(lazy(verb('runLogs'))),
    );
    return pod;
  });
}
