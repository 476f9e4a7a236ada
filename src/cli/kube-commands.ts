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
    .option('--log-driver <driver>', 'logging driver of the containers: k8s-file (default) or none')
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

/** `kube generate`'s flags, under either of podman's spellings (`kube generate`, `generate kube`). */
function generateCommand(name: string, lazy: Lazy): Command {
  return new Command(name)
    .description('Generate Kubernetes YAML (a Pod or Deployment, Services, PersistentVolumeClaims) from containers, pods or volumes')
    .argument('<names...>', 'containers, pods or volumes')
    .option('-s, --service', 'generate a NodePort Service for each Pod')
    .option('-t, --type <type>', 'the kind to generate: pod or deployment', 'pod')
    .option('-r, --replicas <n>', 'replicas of a Deployment (--type deployment)')
    .option('-f, --filename <file>', 'write the YAML to this file (which must not exist) instead of stdout')
    .action(lazy(async () => import('./commands/kube-generate.js')));
}

/** `berth kube play|down|generate` and podman's older `berth play kube [--down]` and `berth generate kube`. */
export function addKubeCommands(define: Define, lazy: Lazy): void {
  define('kube', () => {
    const kube = new Command('kube').description('Play containers, pods or volumes from Kubernetes YAML, or generate YAML from them');
    kube.addCommand(playCommand('play', lazy, false));
    kube.addCommand(downCommand(lazy));
    kube.addCommand(generateCommand('generate', lazy));
    return kube;
  });
  define('play', () => new Command('play').description('Play containers, pods or volumes from a structured file').addCommand(playCommand('kube', lazy, true)));
  // podman's older spelling, which it keeps.
  define('generate', () =>
    new Command('generate').description('Generate structured data based on containers, pods or volumes').addCommand(generateCommand('kube', lazy)),
  );
}
