import { Command } from 'commander';
import { collect, type Define, type Lazy } from './container-commands.js';

/** podman's `manifest`: lists of images for several platforms, made locally and pushed whole. */
export function addManifestCommands(define: Define, lazy: Lazy): void {
  define('manifest', () => {
    const load = (fn: string) => lazy(async () => ({ run: (await import('./commands/manifest.js'))[fn as 'runCreate'] }));
    const registryFlags = (c: Command) =>
      c
        .option('--tls-verify [bool]', 'require HTTPS and verify certificates when contacting registries (default true)')
        .option('--authfile <path>', 'path of the authentication file')
        .option('--cert-dir <dir>', 'certificates (ca.crt, client.cert, client.key) for the registry')
        .option('--creds <user:password>', 'credentials to use with the registry');
    const platformFlags = (c: Command) =>
      c
        .option('--os <os>', 'override the operating system of the image')
        .option('--arch <arch>', 'override the architecture of the image')
        .option('--variant <variant>', 'override the architecture variant of the image')
        .option('--os-version <version>', 'override the OS version of the image')
        .option('--os-features <feature>', 'override the OS features of the image (repeatable)', collect, [])
        .option('--features <feature>', 'override the features of the image (repeatable)', collect, [])
        .option('--annotation <key=value>', 'set an annotation on the entry (repeatable)', collect, []);
    const manifest = new Command('manifest').description('Manipulate manifest lists and image indexes');
    manifest.addCommand(
      registryFlags(
        new Command('create')
          .description('Create a manifest list, optionally with images in it')
          .argument('<list>')
          .argument('[images...]')
          .option('--all', "add every image of an index named, not only this platform's"),
      ).action(load('runCreate')),
    );
    manifest.addCommand(
      platformFlags(
        registryFlags(
          new Command('add')
            .description('Add an image (from a registry, or containers-storage:/berth: for a local one) to a manifest list')
            .argument('<list>')
            .argument('<image>')
            .option('--all', "add every image of an index, not only this platform's"),
        ),
      ).action(load('runAdd')),
    );
    manifest.addCommand(
      platformFlags(
        new Command('annotate')
          .description('Change the platform or annotations of an image in a manifest list')
          .argument('<list>')
          .argument('<digest>')
          .option('--index', 'set the annotations on the list itself'),
      ).action(load('runAnnotate')),
    );
    manifest.addCommand(
      new Command('inspect')
        .description('Display a manifest list, local or in a registry')
        .argument('<list>')
        .option('--tls-verify [bool]', 'require HTTPS and verify certificates (default true)')
        .option('--authfile <path>', 'path of the authentication file')
        .option('--cert-dir <dir>', 'certificates for the registry')
        .option('--creds <user:password>', 'credentials for the registry')
        .action(load('runInspect')),
    );
    manifest.addCommand(
      registryFlags(
        new Command('push')
          .description('Push a manifest list and its images to a registry')
          .argument('<list>')
          .argument('[destination]')
          .option('--all [bool]', 'push the images of the list as well as the list (default true)')
          .option('-f, --format <format>', 'the index format: oci or v2s2')
          .option('--rm', 'remove the local list after a successful push')
          .option('--digestfile <file>', 'write the digest of the pushed list to this file')
          .option('-q, --quiet', 'no progress output'),
      ).action(load('runPush')),
    );
    manifest.addCommand(
      new Command('remove').description('Remove an image from a manifest list').argument('<list>').argument('<digest>').action(load('runRemove')),
    );
    manifest.addCommand(new Command('rm').description('Remove manifest lists (not the images in them)').argument('<lists...>').action(load('runRm')));
    manifest.addCommand(new Command('exists').description('Exit 0 if the manifest list exists, 1 if not').argument('<list>').action(load('runExists')));
    return manifest;
  });
}
