import { reportUsageErrorsAsPodman } from './usage-errors.js';
import { Command, CommanderError, Option } from 'commander';
import { addContainerCommands } from './container-commands.js';
import { addManifestCommands } from './manifest-commands.js';
import { addVolumeCommands } from './volume-commands.js';
import { addSecretCommands } from './secret-commands.js';
import { addNetworkCommands } from './network-commands.js';
import { addPodCommands } from './pod-commands.js';
import { addKubeCommands } from './kube-commands.js';
import type { GlobalOptions } from './context.js';
import { normalizeBooleanFlags } from './bool-flags.js';
import { GLOBAL_OPTIONS_WITH_VALUE, applyGlobalOptions, declareGlobalOptions } from './global-options.js';
import { VERSION } from '../util/version.js';
import { enterUserNamespace } from '../engine/system/index.js';

/**
 * The berth command line. Commands are declared here and their code is loaded only when one
 * runs (each is its own bundle chunk), so a short command pays for nothing else.
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
 * mistyped name declares them all (in this order) so commander lists and suggests as before.
 */
const declarations = new Map<string, () => Command>();
function command(name: string, make: () => Command, aliases: string[] = []): void {
  for (const n of [name, ...aliases]) declarations.set(n, make);
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
  else for (const make of new Set(declarations.values())) program.addCommand(make());
  // pflag's `--flag=false`, rewritten in place for commander now that the command is declared.
  process.argv.splice(2, Infinity, ...normalizeBooleanFlags(program, argv));
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

const collect = (v: string, prev: string[]) => [...prev, v];

function imagesCommand(name: string) {
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

function buildCommand(name: string) {
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

function rmiCommand(name: string) {
  return new Command(name)
    .description('Remove one or more images from local storage')
    .argument('[images...]')
    .option('-a, --all', 'remove all images')
    .option('-f, --force', 'force removal of the image')
    .option('-i, --ignore', 'ignore errors if a specified image does not exist')
    .action(lazy(() => import('./commands/rmi.js')));
}

function inspectCommand(name: string) {
  return new Command(name)
    .description('Display the configuration of an image')
    .argument('<images...>')
    .option('-f, --format <format>', 'format the output using a Go template, or json')
    .action(lazy(() => import('./commands/inspect.js')));
}

function historyCommand(name: string) {
  return new Command(name)
    .description('Show history of a specified image')
    .argument('<image>')
    .option('--format <format>', 'pretty-print with a Go template, or json')
    .option('-H, --human', 'display sizes and dates in human readable format', true)
    .option('--no-trunc', 'do not truncate the output')
    .option('-q, --quiet', 'display the numeric IDs only')
    .action(lazy(() => import('./commands/history.js')));
}

function tagCommand(name: string) {
  return new Command(name)
    .description('Add an additional name to a local image')
    .argument('<image>')
    .argument('<targets...>')
    .action(lazy(() => import('./commands/tag.js')));
}

function untagCommand(name: string) {
  return new Command(name)
    .description('Remove a name from a local image')
    .argument('<image>')
    .argument('[names...]')
    .action(lazy(async () => ({ run: (await import('./commands/tag.js')).runUntag })));
}

function importCommand(name: string) {
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

function saveCommand(name: string) {
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

function loadCommand(name: string) {
  return new Command(name)
    .description('Load image(s) from a tar archive')
    .option('-i, --input <file>', 'read from a tar archive file (default: stdin)')
    .option('-q, --quiet', 'suppress the progress output')
    .option('--platform <os/arch[/variant]>', 'platform to select from an archive holding an index')
    .action(lazy(() => import('./commands/load.js')));
}

function pruneCommand(name: string) {
  return new Command(name)
    .description('Remove unused images')
    .option('-a, --all', 'remove all images not in use by containers, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(lazy(() => import('./commands/prune.js')));
}

function imageGroup(): Command {
  const image = new Command('image').description('Manage images');
  image.addCommand(imagesCommand('list').alias('ls'));
  image.addCommand(inspectCommand('inspect'));
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
  image.addCommand(buildCommand('build'));
  image.addCommand(historyCommand('history'));
  image.addCommand(rmiCommand('rm'));
  image.addCommand(tagCommand('tag'));
  image.addCommand(untagCommand('untag'));
  image.addCommand(importCommand('import'));
  image.addCommand(saveCommand('save'));
  image.addCommand(loadCommand('load'));
  image.addCommand(pruneCommand('prune'));
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
  image.addCommand(imageTrustGroup());
  image.addCommand(
    new Command('verify')
      .description("Show a registry image's signatures and whether the trust policy accepts it (exit 1 when it does not)")
      .argument('<image>')
      .option('--format <format>', 'json for the report as JSON')
      .option('--signature-policy <file>', "the trust policy (policy.json), instead of the user's or the system's")
      .option('--registries.d <dir>', 'the registries.d folder saying where signatures are found')
      .addOption(new Option('--tls-verify [bool]', 'require HTTPS and verify certificates when contacting registries (default true)'))
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
      .addOption(new Option('--tls-verify [bool]', 'require HTTPS and verify certificates when contacting registries (default true)'))
      .action(lazy(() => import('./commands/image-sign.js'))),
  );
  return image;
}

/** `image trust show|set`: policy.json described and edited as podman does (--policypath and --registrypath hidden, as there). */
function imageTrustGroup(): Command {
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

function builderGroup(): Command {
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

function systemGroup(): Command {
  const system = new Command('system').description('Manage berth');
  system.addCommand(
    new Command('df')
      .description('Show berth disk usage')
      .option('--format <format>', 'pretty-print with a Go template, or json')
      .option('-v, --verbose', 'show detailed information on disk usage')
      .action(lazy(() => import('./commands/df.js'))),
  );
  system.addCommand(infoCommand('info'));
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

function infoCommand(name: string) {
  return new Command(name)
    .description('Display berth system information')
    .option('-f, --format <format>', 'change the output format to json or a Go template')
    .action(lazy(() => import('./commands/info.js')));
}

function registryGroup(): Command {
  const registry = new Command('registry').description('Run and manage a registry of your own');
  registry.addCommand(
    new Command('serve')
      .description('Serve an OCI distribution registry (loopback only unless access control is configured)')
      .option(
        '--config <file>',
        'registry config file (TOML: [http] addr, [storage] path or [storage.s3], [limits], [tls], [auth], [auth.token], [[access]], [gc], [log], [metrics], [proxy])',
      )
      .option('--htpasswd <file>', 'require these htpasswd (bcrypt) users; with no [[access]] rules every user may pull, push and delete')
      .option('--addr <host:port>', 'listen address (default 127.0.0.1:5000)')
      .option('--storage <dir>', 'storage directory (default <root>/registry)')
      .option('--tls-cert <file>', 'serve HTTPS with this certificate')
      .option('--tls-key <file>', "the certificate's private key")
      .option('--manifest-bytes <n>', 'largest manifest accepted (default 4 MiB)')
      .action(lazy(() => import('./commands/registry-serve.js'))),
  );
  registry.addCommand(
    new Command('gc')
      .description('Remove blobs no manifest references (and with --delete-untagged, untagged manifests) and abandoned uploads')
      .option('--config <file>', 'registry config file (its [storage] path or [storage.s3] bucket, and [gc] settings)')
      .option('--storage <dir>', 'storage directory (default <root>/registry)')
      .option('--delete-untagged', 'also remove manifests no tag, index or live subject holds')
      .option('--dry-run', 'report what would be removed, remove nothing')
      .option('--grace <duration>', 'keep blobs and manifests used within this long (default 1h; 0 only when no push runs)')
      .option('--upload-max-age <duration>', 'remove upload sessions idle this long (default 24h)')
      .option('--format <format>', 'json for a machine-readable report')
      .action(lazy(() => import('./commands/registry-gc.js'))),
  );
  return registry;
}

command('images', () => imagesCommand('images'));
command('image', () => imageGroup());
command('build', () => buildCommand('build'));
command('builder', () => builderGroup());
command('rmi', () => rmiCommand('rmi'));
command('tag', () => tagCommand('tag'));
command('untag', () => untagCommand('untag'));
command('inspect', () =>
  new Command('inspect')
    .description('Display the configuration of containers, images or volumes; of a registry image with docker://REF (as skopeo)')
    .argument('<names...>')
    .option('-f, --format <format>', 'format the output using a Go template, or json')
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
command('list-tags', () =>
  new Command('list-tags')
    .description('List the tags of a repository in a registry (docker://REPO, as skopeo)')
    .argument('<repository>')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates (default true)')
    .option('--authfile <path>', 'path of the authentication file')
    .option('--cert-dir <dir>', 'certificates for the registry')
    .option('--creds <user:password>', 'credentials for the registry')
    .action(lazy(async () => ({ run: (await import('./commands/remote-inspect.js')).runListTags }))),
);
command('copy', () =>
  new Command('copy')
    .description(
      'Copy an image between transports: docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF], dir:DIR, berth:NAME (as skopeo)',
    )
    .argument('<source>')
    .argument('<destination>')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates at both ends (default true)')
    .option('--src-tls-verify [bool]', 'the same, for the source registry')
    .option('--dest-tls-verify [bool]', 'the same, for the destination registry')
    .option('--authfile <path>', 'path of the authentication file, both ends')
    .option('--src-authfile <path>', 'authentication file for the source')
    .option('--dest-authfile <path>', 'authentication file for the destination')
    .option('--src-creds <user:password>', 'credentials for the source registry')
    .option('--dest-creds <user:password>', 'credentials for the destination registry')
    .option('--src-cert-dir <dir>', 'certificates for the source registry')
    .option('--dest-cert-dir <dir>', 'certificates for the destination registry')
    .option('--preserve-digests', 'fail rather than change the manifest (no format conversion)')
    .option('-a, --all', 'copy an image index (manifest list) with every image it lists (same as --multi-arch all)')
    .option('--multi-arch <which>', 'for an index: system (the one image for this platform, default), all, or index-only')
    .option('--override-os <os>', "the OS to choose from an image index instead of this host's")
    .option('--override-arch <arch>', "the architecture to choose from an image index instead of this host's")
    .option('--override-variant <variant>', 'the architecture variant to choose from an image index')
    .option('--dest-compress-format <format>', 'recompress layers to gzip or zstd (zstd makes the manifest OCI: Docker schema 2 has no zstd layer type)')
    .option('--dest-compress-level <n>', 'compression level: gzip 0-9, zstd 1-19')
    .option('--digestfile <file>', 'write the digest of the copied manifest to this file')
    .option('-q, --quiet', 'suppress the progress lines')
    .option('--sign-by <fingerprint>', 'sign the copied image with this GPG key (docker:// destinations; the signature goes to the lookaside)')
    .option('--sign-passphrase-file <file>', "a file holding the signing key's passphrase (GPG or sigstore), its first line")
    .option(
      '--sign-by-sigstore-private-key <file>',
      'sign the copied image with this cosign private key (docker:// destinations where registries.d sets use-sigstore-attachments)',
    )
    .option(
      '--remove-signatures',
      "do not copy the source's signatures (without it they go with the image: docker://, dir: and berth: keep them, oci: and archives cannot)",
    )
    .option('--registries.d <dir>', 'the registries.d folder saying where signatures are stored and found')
    .option('--policy <file>', "the trust policy (policy.json) the source is checked against, instead of the user's or the system's")
    .addOption(new Option('--signature-policy <file>', 'the same as --policy').hideHelp())
    .action(lazy(() => import('./commands/copy.js'))),
);
command('sync', () =>
  new Command('sync')
    .description('Copy every tag of repositories to a registry, or to OCI layouts (as skopeo sync)')
    .argument('<source>', 'a repository or repository:tag (--src docker), or a sync YAML file (--src yaml)')
    .argument('<destination>', 'a registry/namespace (--dest docker) or a directory (--dest oci or dir)')
    .requiredOption('--src <kind>', 'docker or yaml')
    .requiredOption('--dest <kind>', 'docker, oci or dir')
    .option('--scoped', 'keep the source registry and full path under the destination')
    .option('--src-tls-verify [bool]', 'require HTTPS and verify certificates at the source (default true)')
    .option('--dest-tls-verify [bool]', 'require HTTPS and verify certificates at the destination (default true)')
    .option('--src-creds <user:password>', 'credentials for the source registry')
    .option('--dest-creds <user:password>', 'credentials for the destination registry')
    .option('--src-authfile <path>', 'authentication file for the source')
    .option('--dest-authfile <path>', 'authentication file for the destination')
    .option('--src-cert-dir <dir>', 'certificates for the source registry')
    .option('--dest-cert-dir <dir>', 'certificates for the destination registry')
    .option('--preserve-digests', 'fail rather than change a manifest')
    .option('--remove-signatures', "do not copy the images' signatures (without it they go with each image, as copy's)")
    .option('-a, --all', 'copy image indexes (manifest lists) with every image they list')
    .option('-q, --quiet', 'no progress lines')
    .option('--policy <file>', "the trust policy (policy.json) each source image is checked against, instead of the user's or the system's")
    .option('--registries.d <dir>', 'the registries.d folder saying where signatures are found and written')
    .action(lazy(() => import('./commands/sync.js'))),
);
command('delete', () =>
  new Command('delete')
    .description('Delete an image from a registry (docker://REF, by tag or digest, as skopeo)')
    .argument('<image>')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates (default true)')
    .option('--authfile <path>', 'path of the authentication file')
    .option('--cert-dir <dir>', 'certificates for the registry')
    .option('--creds <user:password>', 'credentials for the registry')
    .action(lazy(async () => ({ run: (await import('./commands/remote-inspect.js')).runDelete }))),
);
command('search', () =>
  new Command('search')
    .description("Search a registry's catalog for images (REGISTRY/TERM, or the unqualified-search registries)")
    .argument('<term>')
    .option('-f, --filter <filter>', 'stars=N, is-official, is-automated (repeatable)', collect, [])
    .option('--format <format>', 'pretty-print with a Go template, or json')
    .option('--limit <n>', 'at most this many results per registry (default 25)')
    .option('--list-tags', 'list the tags of the repository named')
    .option('--no-trunc', 'do not truncate the output')
    .option('-n, --noheading', 'do not print column headings')
    .addOption(tlsVerifyOption())
    .option('--authfile <path>', 'path of the authentication file')
    .option('--cert-dir <dir>', 'certificates (ca.crt, client.cert, client.key) for the registry')
    .option('--creds <user:password>', 'credentials to use with the registry')
    .action(lazy(() => import('./commands/search.js'))),
);
command('history', () => historyCommand('history'));
command('events', () =>
  new Command('events')
    .description('Show berth events (by default, follow new ones until interrupted)')
    .option('-f, --filter <filter>', 'container=, image=, volume=, secret=, event=, type=, label= (same key ORed, different keys ANDed)', collect, [])
    .option('--format <format>', 'format the output using a Go template, or json')
    .option('--since <time>', 'show events since a timestamp, Unix time or duration (e.g. 10m)')
    .option('--until <time>', 'show events until a timestamp, Unix time or duration')
    .option('--stream [bool]', 'follow new events (default true; --stream=false prints the logged ones and exits)')
    .option('--no-trunc', 'accepted for podman compatibility: IDs are never truncated')
    .action(lazy(() => import('./commands/events.js'))),
);
command('import', () => importCommand('import'));
command('save', () => saveCommand('save'));
command('load', () => loadCommand('load'));
command('system', () => systemGroup());
command('registry', () => registryGroup());
command('info', () => infoCommand('info'));
command('version', () =>
  new Command('version')
    .description('Display the berth version information')
    .option('-f, --format <format>', 'change the output format to json or a Go template')
    .action(lazy(() => import('./commands/version.js'))),
);

// Registry client commands: the registry flags are podman's.
const tlsVerifyOption = () => new Option('--tls-verify [bool]', 'require HTTPS and verify certificates when contacting registries (default true)');
command('pull', () =>
  new Command('pull')
    .description('Pull an image from a registry')
    .argument('<names...>')
    .option('--all-tags', 'pull every tagged image in the repository')
    .option('--platform <os/arch[/variant]>', 'the platform to choose from an image index')
    .option('--os <os>', 'the OS to choose from an image index')
    .option('--arch <arch>', 'the architecture to choose from an image index')
    .option('--variant <variant>', 'the architecture variant to choose from an image index')
    .option('-q, --quiet', 'suppress progress output')
    .addOption(tlsVerifyOption())
    .option('--authfile <path>', 'path of the authentication file')
    .option('--cert-dir <dir>', 'certificates (ca.crt, client.cert, client.key) for the registry')
    .option('--creds <user:password>', 'credentials to use with the registry')
    .option('--signature-policy <file>', "the trust policy (policy.json) to pull under, instead of the user's or the system's")
    .option('--registries.d <dir>', 'the registries.d folder saying where signatures are found')
    .option('--remove-signatures', "do not keep the image's signatures in the store (podman's; the policy still checks them)")
    .action(lazy(() => import('./commands/pull.js'))),
);
command('push', () =>
  new Command('push')
    .description('Push an image to a registry')
    .argument('<image>')
    .argument('[destination]')
    .option('-f, --format <format>', "manifest format: oci or v2s2 (default: the image's own)")
    .option('--digestfile <file>', 'write the digest of the pushed manifest to this file')
    .option(
      '--compression-format <format>',
      'recompress layers to gzip or zstd; zstd writes an OCI manifest (Docker schema 2 has no zstd layer type), as podman does',
    )
    .option('--compression-level <n>', 'compression level: gzip 0-9, zstd 1-19')
    .option('--force-compression [bool]', 'recompress even a layer the registry already has (default true with --compression-format)')
    .option('-q, --quiet', 'suppress progress output')
    .option(
      '--remove-signatures',
      "do not push the image's stored signatures (podman's; without it they go with the image, and a push that would change its digest is refused)",
    )
    .option('--sign-by <fingerprint>', 'sign the pushed image with this GPG key; the signature goes to the lookaside registries.d names')
    .option('--sign-passphrase-file <file>', "a file holding the signing key's passphrase (GPG or sigstore), its first line")
    .option('--registries.d <dir>', 'the registries.d folder saying where signatures are stored')
    .option(
      '--sign-by-sigstore-private-key <file>',
      "sign the pushed image with this cosign private key (attached as the registry's sha256-<digest>.sig tag, where registries.d sets use-sigstore-attachments)",
    )
    .addOption(tlsVerifyOption())
    .option('--authfile <path>', 'path of the authentication file')
    .option('--cert-dir <dir>', 'certificates (ca.crt, client.cert, client.key) for the registry')
    .option('--creds <user:password>', 'credentials to use with the registry')
    .action(lazy(() => import('./commands/push.js'))),
);
command('generate-sigstore-key', () =>
  new Command('generate-sigstore-key')
    .description('Generate a sigstore (cosign) public/private key pair')
    .option('--output-prefix <prefix>', 'write the keys to PREFIX.pub and PREFIX.private')
    .option('--passphrase-file <path>', 'read a passphrase for the private key from the first line of this file')
    .action(lazy(() => import('./commands/generate-sigstore-key.js'))),
);
command('login', () =>
  new Command('login')
    .description('Log in to a container registry')
    .argument('[registry]')
    .option('-u, --username <name>', 'user name')
    .option('-p, --password <password>', 'password')
    .option('--password-stdin', 'read the password from stdin')
    .option('--get-login', 'print the user name stored for the registry')
    .option('--authfile <path>', 'path of the authentication file')
    .option('--cert-dir <dir>', 'certificates (ca.crt, client.cert, client.key) for the registry')
    .addOption(tlsVerifyOption())
    .option('-v, --verbose', 'accepted for podman compatibility')
    .action(lazy(() => import('./commands/login.js'))),
);
command('unshare', () =>
  new Command('unshare')
    .description("Run a command (default: your shell) inside berth's rootless user namespace")
    .argument('[command...]')
    .passThroughOptions()
    .action(lazy(() => import('./commands/unshare.js'))),
);
command('logout', () =>
  new Command('logout')
    .description('Log out of a container registry')
    .argument('[registry]')
    .option('-a, --all', 'remove the credentials of every registry')
    .option('--authfile <path>', 'path of the authentication file')
    .action(lazy(() => import('./commands/logout.js'))),
);

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

await main();
