import { Command } from 'commander';
import { collect, type Define, type Lazy } from './container-commands.js';

const play = async () => ({ run: (await import('./commands/kube-play.js')).runPlay });
const down = async () => ({ run: (await import('./commands/kube-down.js')).runDown });

/** `kube play`'s flags, shared with podman's older `play kube`. */
function playCommand(name: string, lazy: Lazy, withDown: boolean): Command {
  const cmd = new Command(name)
    .description('Create pods, secrets and volumes from Kubernetes YAML (a file, or - for stdin)')
    .argument('<file>', 'the kube file, or - for stdin')
    .option('--build', 'build the images whose directory (named after the image) beside the file holds a Containerfile')
    .option('--context-dir <dir>', 'where --build looks for the images’ directories (default: the kube file’s directory)')
    .option('--network <network>', 'connect the pods to this network', collect, [])
    .option('--replace', 'remove the pods and secrets the file describes first, then play it')
    .option('--start', 'start the pods after creating them (default true; --start=false to create only)')
    .option('--configmap <file>', 'a YAML file of ConfigMaps the pods may use (repeatable, or comma-separated)', collect, [])
    .option('--log-driver <driver>', 'logging driver of the containers (k8s-file)')
    .option('-q, --quiet', 'print no pull progress');
  if (withDown) cmd.option('--down', 'remove what the file describes (kube down)');
  return cmd.action(lazy(play));
}

function downCommand(lazy: Lazy): Command {
  return new Command('down')
    .description('Remove the pods and secrets a Kubernetes YAML file describes (a file, or - for stdin)')
    .argument('<file>', 'the kube file, or - for stdin')
    .action(lazy(down));
}

/** `berth kube play|down` and podman's older `berth play kube [--down]`. */
export function addKubeCommands(define: Define, lazy: Lazy): void {
  define('kube', () => {
    const kube = new Command('kube').description('Play containers, pods or volumes from a structured file');
    kube.addCommand(playCommand('play', lazy, false));
    kube.addCommand(downCommand(lazy));
    return kube;
  });
  define('play', () => new Command('play').description('Play containers, pods or volumes from a structured file').addCommand(playCommand('kube', lazy, true)));
}
