import { Command } from 'commander';
import type { Define, Lazy } from './container-commands.js';

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

/** `berth kube …`: Kubernetes YAML from berth's objects (generate) and into them. */
export function addKubeCommands(define: Define, lazy: Lazy): void {
  define('kube', () => {
    const kube = new Command('kube').description('Play containers, pods or volumes from Kubernetes YAML, or generate YAML from them');
    kube.addCommand(generateCommand('generate', lazy));
    return kube;
  });
  // podman's older spelling, which it keeps.
  define('generate', () =>
    new Command('generate').description('Generate structured data based on containers, pods or volumes').addCommand(generateCommand('kube', lazy)),
  );
}
