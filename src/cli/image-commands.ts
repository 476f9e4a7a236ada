import { Command, Option } from 'commander';
import { collect, type Define, type Lazy } from './container-commands.js';
import { tlsVerifyOption } from './registry-commands.js';

// Most image commands are declared twice, at the top and under `image` (`images` and `image list`,
// `rmi` and `image rm`), so each is made from its name.
function imagesCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('List images in local storage')
    .argument('[image]', 'show only images matching this name')
    .option('-a, --all', 'show all images, including intermediate ones')
    .option('--digests', 'show digests')
    .option('-f, --filter <filter>', 'filter output (reference=, dangling=, before=, since=, label=, id=)', collect, [])
    .option('--format <format>', 'pretty-print with a Go template, or json')
    .option('--no-trunc', 'do not truncate output')
    .option('-n, --noheading', 'do not print column headings')
    .option('-q, --quiet', 'display only image IDs')
    .option('--sort <field>', 'sort by created, id, repository, size or tag', 'created')
    .action(lazy(() => import('./commands/images.js')));
}

function buildCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Build an image using instructions from Containerfiles')
    .argument('[context]', 'the build context directory (default .)')
    .option('-t, --tag <name>', 'name of the image to build (repeatable)', collect, [])
    .option('-f, --file <path>', 'the Containerfile or Dockerfile to build (default CONTEXT/Containerfile or CONTEXT/Dockerfile)')
    .option('--build-arg <arg=value>', 'a value for an ARG (repeatable)', collect, [])
    .option('--build-arg-file <file>', 'ARG values from a file of KEY=VALUE lines, # comments (repeatable; --build-arg wins)', collect, [])
    .option('--pull [policy]', 'pull the base images: always (alone, or true), missing (default), never (or false), newer')
    .option('--pull-always', 'the same as --pull=always')
    .option('--pull-never', 'the same as --pull=never')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates when pulling (default true)')
    .option('--authfile <path>', 'path of the authentication file for pulls')
    .option('--cert-dir <dir>', 'certificates (ca.crt, client.cert, client.key) for the registry')
    .option('--creds <user:password>', 'credentials to use with the registry')
    .option('--signature-policy <file>', "the trust policy (policy.json) to pull base images under, instead of the user's or the system's")
    .option('--registries.d <dir>', 'the registries.d folder saying where signatures are found')
    .option('--label <key=value>', 'set a label on the image (repeatable)', collect, [])
    .option('--iidfile <file>', 'write the image ID to this file')
    .option('--ignorefile <file>', "exclusions to use instead of the context's .containerignore or .dockerignore")
    .option('--logfile <file>', "write the steps' output to this file instead of stdout")
    .option('--ulimit <name=soft[:hard]>', 'rlimits of the RUN steps (repeatable)', collect, [])
    .option('--security-opt <opt>', 'security options of the RUN steps, as run takes them (repeatable)', collect, [])
    .option('--format <format>', 'the manifest and config format: oci or docker', 'oci')
    .option('--no-cache', 'do not use existing cached images for the steps')
    .option('--target <stage>', 'build this stage and what it needs, and stop')
    .option('--platform <os/arch>', "the platform to build for: only the host's is supported")
    .option('-q, --quiet', 'print only the image ID')
    .option('--network <mode>', 'the network of RUN steps: the default bridge, none, host or a network name')
    .option('-o, --output <spec>', "also write the image's file system: type=local,dest=DIR or type=tar,dest=FILE")
    .option('--squash', "squash the build's own layers into one")
    .option('--layers <bool>', "cache intermediate images (false: no cache, one layer for the build's steps)")
    .option('--secret <spec>', 'a secret for RUN --mount=type=secret: id=ID,src=FILE (repeatable)', collect, [])
    .option('--timestamp <seconds>', 'set created times and every file mtime in the new layers to this time (seconds since the epoch)')
    .option('--source-date-epoch <seconds>', 'set created times to this time and clamp mtimes in the new layers to it (default $SOURCE_DATE_EPOCH)')
    .option('--jobs <n>', 'how many independent stages may build at once (default: the number of CPUs; 1 builds them one by one)')
    .action(lazy(() => import('./commands/build.js')));
}

function rmiCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Remove one or more images from local storage')
    .argument('[images...]')
    .option('-a, --all', 'remove all images')
    .option('-f, --force', 'force removal of the image')
    .option('-i, --ignore', 'ignore errors if a specified image does not exist')
    .action(lazy(() => import('./commands/rmi.js')));
}

function inspectCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Display the configuration of an image')
    .argument('<images...>')
    .option('-f, --format <format>', 'format the output using a Go template, or json')
    .action(lazy(() => import('./commands/inspect.js')));
}

function historyCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Show history of a specified image')
    .argument('<image>')
    .option('--format <format>', 'pretty-print with a Go template, or json')
    .option('-H, --human', 'display sizes and dates in human readable format', true)
    .option('--no-trunc', 'do not truncate the output')
    .option('-q, --quiet', 'display the numeric IDs only')
    .action(lazy(() => import('./commands/history.js')));
}

function tagCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Add an additional name to a local image')
    .argument('<image>')
    .argument('<targets...>')
    .action(lazy(() => import('./commands/tag.js')));
}

function untagCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Remove a name from a local image')
    .argument('<image>')
    .argument('[names...]')
    .action(lazy(async () => ({ run: (await import('./commands/tag.js')).runUntag })));
}

function importCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Import a tarball to create a filesystem image')
    .argument('<path>', 'tarball file, or - for stdin')
    .argument('[reference]')
    .option(
      '-c, --change <instruction>',
      'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)',
      collect,
      [],
    )
    .option('-m, --message <message>', 'commit message for the imported image')
    .option('--os <os>', 'set the OS of the imported image')
    .option('--arch <arch>', 'set the architecture of the imported image')
    .option('--variant <variant>', 'set the variant of the imported image')
    .option('-q, --quiet', 'suppress output')
    .action(lazy(() => import('./commands/import.js')));
}

function saveCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Save image(s) to an archive')
    .argument('<images...>')
    .addOption(new Option('--format <format>', 'archive format').choices(['docker-archive', 'oci-archive', 'oci-dir', 'docker-dir']).default('docker-archive'))
    .option('-o, --output <file>', 'write to a file (default: stdout)')
    .option('-m, --multi-image-archive', 'accepted for podman compatibility: several images always go into one archive')
    .option('--compress', 'accepted for podman compatibility')
    .option('--uncompressed', 'keep uncompressed layers uncompressed in OCI formats (berth saves layers as stored in any case)')
    .option('-q, --quiet', 'suppress output')
    .action(lazy(() => import('./commands/save.js')));
}

function loadCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Load image(s) from a tar archive')
    .option('-i, --input <file>', 'read from a tar archive file (default: stdin)')
    .option('-q, --quiet', 'suppress the progress output')
    .option('--platform <os/arch[/variant]>', 'platform to select from an archive holding an index')
    .action(lazy(() => import('./commands/load.js')));
}

function pruneCommand(name: string, lazy: Lazy) {
  return new Command(name)
    .description('Remove unused images')
    .option('-a, --all', 'remove all images not in use by containers, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(lazy(() => import('./commands/prune.js')));
}

function imageGroup(lazy: Lazy): Command {
  const image = new Command('image').description('Manage images');
  image.addCommand(imagesCommand('list', lazy).alias('ls'));
  image.addCommand(inspectCommand('inspect', lazy));
  image.addCommand(
    new Command('mount')
      .description("Mount an image's root file system read-only and print where; with no image, list the mounted ones")
      .argument('[images...]')
      .option('-a, --all', 'mount every image')
      .option('--format <format>', 'json to list the mounted images as JSON')
      .action(lazy(async () => ({ run: (await import('./commands/image-mount.js')).runMount }))),
  );
  image.addCommand(
    new Command('unmount')
      .alias('umount')
      .description("Unmount an image's root file system; prints the IDs of the images it unmounted")
      .argument('[images...]')
      .option('-a, --all', 'unmount every mounted image')
      .option('-f, --force', 'accepted for podman compatibility (one unmount always ends the mount)')
      .action(lazy(async () => ({ run: (await import('./commands/image-mount.js')).runUnmount }))),
  );
  image.addCommand(buildCommand('build', lazy));
  image.addCommand(historyCommand('history', lazy));
  image.addCommand(rmiCommand('rm', lazy));
  image.addCommand(tagCommand('tag', lazy));
  image.addCommand(untagCommand('untag', lazy));
  image.addCommand(importCommand('import', lazy));
  image.addCommand(saveCommand('save', lazy));
  image.addCommand(loadCommand('load', lazy));
  image.addCommand(pruneCommand('prune', lazy));
  image.addCommand(
    new Command('exists')
      .description('Exit 0 if the image exists in local storage, 1 if not')
      .argument('<image>')
      .action(lazy(() => import('./commands/image-exists.js'))),
  );
  image.addCommand(
    new Command('tree')
      .description('Print the layer hierarchy of an image in a tree format')
      .argument('<image>')
      .option('--whatrequires', 'show all child images and layers of the specified image')
      .action(lazy(() => import('./commands/image-tree.js'))),
  );
  image.addCommand(imageTrustGroup(lazy));
  image.addCommand(
    new Command('verify')
      .description("Show a registry image's signatures and whether the trust policy accepts it (exit 1 when it does not)")
      .argument('<image>')
      .option('--format <format>', 'json for the report as JSON')
      .option('--signature-policy <file>', "the trust policy (policy.json), instead of the user's or the system's")
      .option('--registries.d <dir>', 'the registries.d folder saying where signatures are found')
      .addOption(tlsVerifyOption())
      .option('--authfile <path>', 'path of the authentication file')
      .option('--cert-dir <dir>', 'certificates (ca.crt, client.cert, client.key) for the registry')
      .option('--creds <user:password>', 'credentials to use with the registry')
      .action(lazy(() => import('./commands/image-verify.js'))),
  );
  image.addCommand(
    new Command('sign')
      .description("Sign images in a registry with GPG (podman's image sign): the signatures go to the lookaside registries.d names, or --directory")
      .argument('<images...>')
      .requiredOption('--sign-by <fingerprint>', "the GPG key (fingerprint) to sign with, from the user's keyring (GNUPGHOME honoured)")
      .option('--sign-passphrase-file <file>', "a file holding the key's passphrase")
      .option('-d, --directory <dir>', 'write the signatures under this folder instead of the lookaside')
      .option('-a, --all', 'sign every image an image index lists, besides the index')
      .option('--registries.d <dir>', 'the registries.d folder saying where signatures are stored')
      .option('--authfile <path>', 'path of the authentication file')
      .option('--cert-dir <dir>', 'certificates (ca.crt, client.cert, client.key) for the registry')
      .addOption(tlsVerifyOption())
      .action(lazy(() => import('./commands/image-sign.js'))),
  );
  return image;
}

/** `image trust show|set`: policy.json described and edited as podman does (--policypath and --registrypath hidden, as there). */
function imageTrustGroup(lazy: Lazy): Command {
  const trust = new Command('trust').description('Manage container image trust policy');
  trust.addCommand(
    new Command('show')
      .description('Display trust policy for the system')
      .argument('[registry]', 'only the rows of this scope (default for the default policy)')
      .option('-j, --json', 'output as json')
      .option('--raw', 'output raw policy file')
      .option('-n, --noheading', 'do not print column headings')
      .addOption(new Option('--policypath <path>').hideHelp())
      .addOption(new Option('--registrypath <dir>').hideHelp())
      .action(lazy(async () => ({ run: (await import('./commands/image-trust.js')).runShow }))),
  );
  trust.addCommand(
    new Command('set')
      .description('Set default trust policy or a new trust policy for a registry')
      .argument('<registry>', 'a registry, repository or namespace (a docker scope), or default')
      .option('-f, --pubkeysfile <file>', 'public key file to trust for REGISTRY (repeatable; stored as an absolute path)', collect, [])
      .option('-t, --type <type>', 'trust type: signedBy (default), accept, reject or sigstoreSigned', 'signedBy')
      .addOption(new Option('--policypath <path>').hideHelp())
      .action(lazy(async () => ({ run: (await import('./commands/image-trust.js')).runSet }))),
  );
  return trust;
}

function builderGroup(lazy: Lazy): Command {
  const builder = new Command('builder').description('Manage the build cache');
  builder.addCommand(
    new Command('prune')
      .description('Remove the build cache: intermediate images no tagged image needs, and RUN cache mounts')
      .option('-a, --all', 'also forget every cached step, so that the next build runs each again')
      .option('-f, --force', 'do not prompt for confirmation')
      .action(lazy(() => import('./commands/builder-prune.js'))),
  );
  return builder;
}

/** The local image commands: `images`, `image …` (its `trust` too), `build`, `builder prune`, `rmi`, `tag`, `untag`, `history`, `import`, `save`, `load` and the generic `inspect`. */
export function addImageCommands(define: Define, lazy: Lazy): void {
  define('images', () => imagesCommand('images', lazy));
  define('image', () => imageGroup(lazy));
  define('build', () => buildCommand('build', lazy));
  define('builder', () => builderGroup(lazy));
  define('rmi', () => rmiCommand('rmi', lazy));
  define('tag', () => tagCommand('tag', lazy));
  define('untag', () => untagCommand('untag', lazy));
  // The generic inspect (containers, images, volumes, docker://) lives with the images: its code is image inspect's module.
  define('inspect', () =>
    new Command('inspect')
      .description('Display the configuration of containers, images or volumes; of a registry image with docker://REF (as skopeo)')
      .argument('[names...]')
      .option('-f, --format <format>', 'format the output using a Go template, or json')
      .option('-l, --latest', 'the container created last')
      .addOption(new Option('-t, --type <type>', 'the kind of object to look for').choices(['all', 'container', 'image', 'volume']).default('all'))
      .option('--raw', 'docker://: the manifest or index exactly as the registry serves it')
      .option('--config', 'docker://: the image config')
      .option('-n, --no-tags', "docker://: leave out the repository's tags")
      .option('--tls-verify [bool]', 'docker://: require HTTPS and verify certificates (default true)')
      .option('--authfile <path>', 'docker://: path of the authentication file')
      .option('--cert-dir <dir>', 'docker://: certificates for the registry')
      .option('--creds <user:password>', 'docker://: credentials for the registry')
      .action(lazy(async () => ({ run: (await import('./commands/inspect.js')).runAny }))),
  );
  define('history', () => historyCommand('history', lazy));
  define('import', () => importCommand('import', lazy));
  define('save', () => saveCommand('save', lazy));
  define('load', () => loadCommand('load', lazy));
}
