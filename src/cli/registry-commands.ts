import { Command, Option } from 'commander';
import { collect, type Define, type Lazy } from './container-commands.js';

/** The registry client commands' `--tls-verify` (and `image sign`'s and `image verify`'s): their registry flags are podman's. */
export const tlsVerifyOption = () => new Option('--tls-verify [bool]', 'require HTTPS and verify certificates when contacting registries (default true)');

function registryGroup(lazy: Lazy): Command {
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

/** The registry client commands (`pull`, `push`, `login`, `logout`, skopeo's `copy`, `sync`, `list-tags`, `delete`; `search`, `generate-sigstore-key`) and `registry serve|gc`. */
export function addRegistryCommands(define: Define, lazy: Lazy): void {
  define('list-tags', () =>
    new Command('list-tags')
      .description('List the tags of a repository in a registry (docker://REPO, as skopeo)')
      .argument('<repository>')
      .option('--tls-verify [bool]', 'require HTTPS and verify certificates (default true)')
      .option('--authfile <path>', 'path of the authentication file')
      .option('--cert-dir <dir>', 'certificates for the registry')
      .option('--creds <user:password>', 'credentials for the registry')
      .action(lazy(async () => ({ run: (await import('./commands/remote-inspect.js')).runListTags }))),
  );
  define('copy', () =>
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
  define('sync', () =>
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
  define('delete', () =>
    new Command('delete')
      .description('Delete an image from a registry (docker://REF, by tag or digest, as skopeo)')
      .argument('<image>')
      .option('--tls-verify [bool]', 'require HTTPS and verify certificates (default true)')
      .option('--authfile <path>', 'path of the authentication file')
      .option('--cert-dir <dir>', 'certificates for the registry')
      .option('--creds <user:password>', 'credentials for the registry')
      .action(lazy(async () => ({ run: (await import('./commands/remote-inspect.js')).runDelete }))),
  );
  define('search', () =>
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
  define('registry', () => registryGroup(lazy));
  define('pull', () =>
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
  define('push', () =>
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
  define('generate-sigstore-key', () =>
    new Command('generate-sigstore-key')
      .description('Generate a sigstore (cosign) public/private key pair')
      .option('--output-prefix <prefix>', 'write the keys to PREFIX.pub and PREFIX.private')
      .option('--passphrase-file <path>', 'read a passphrase for the private key from the first line of this file')
      .action(lazy(() => import('./commands/generate-sigstore-key.js'))),
  );
  define('login', () =>
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
  define('logout', () =>
    new Command('logout')
      .description('Log out of a container registry')
      .argument('[registry]')
      .option('-a, --all', 'remove the credentials of every registry')
      .option('--authfile <path>', 'path of the authentication file')
      .action(lazy(() => import('./commands/logout.js'))),
  );
}
