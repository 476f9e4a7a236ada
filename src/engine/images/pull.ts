/**
 * Pull from a registry into the local store: short names resolved through the unqualified-search
 * registries, mirrors tried before the registry itself, the store written through `copyIntoStore` (the one copy engine)
 * (layers it has are skipped).
 */
import { loadRegistriesConf, pullSources, type RegistriesConf } from '../../config/registries.js';
import { resolveShortName } from '../../config/shortnames.js';
import type { Platform } from '../../oci/platform.js';
import { formatReference, parseNormalizedNamed, withDefaultTag, withTag, type ImageReference } from '../../oci/reference.js';
import type { ImageRecord } from '../../store/images.js';
import type { Store } from '../../store/store.js';
import { BerthError, isBerthError, type ErrorCode } from '../../util/errors.js';
import type { ProgressSink } from '../../util/progress.js';
import { trace } from '../../util/trace.js';
import { copyIntoStore, registryImageSource } from '../../transports/copy/index.js';
import { refuseIfRejectedOutright, registryAdmission, type TrustOptions } from './admission.js';
import { registrySignatureReader } from './image-signatures.js';
import { readRegistryImage, readSigstoreSignatures, RegistryClient, type RegistryOptions } from '../../transports/docker/index.js';

export interface PullOptions extends RegistryOptions, TrustOptions {
  platform?: Platform;
  /** Every tag of the repository (the name must carry no tag or digest). */
  allTags?: boolean;
  onProgress?: ProgressSink;
  /** Told each reference before it is tried ("Trying to pull …"). */
  onTrying?: (reference: string) => void;
  /** podman's --remove-signatures: the store keeps none of the image's signatures (the policy still reads them). */
  removeSignatures?: boolean;
}

/** registries.conf as podman finds it ($CONTAINERS_REGISTRIES_CONF replaces the default files). */
export async function registriesConf(env: Record<string, string | undefined> = process.env): Promise<RegistriesConf> {
  const explicit = env['CONTAINERS_REGISTRIES_CONF'];
  return loadRegistriesConf(explicit ? { explicit } : {});
}

/** `docker://NAME` or `NAME`: the name; any other transport is refused. */
export function stripDockerTransport(name: string): string {
  if (name.startsWith('docker://')) return name.slice('docker://'.length);
  const m = /^([a-z][a-z0-9-]*):(?!\d)/.exec(name);
  if (m && ['oci', 'oci-archive', 'docker-archive', 'dir', 'containers-storage', 'docker-daemon'].includes(m[1]!)) {
    throw new BerthError('USAGE', `${name}: only docker:// (registry) references are supported here`);
  }
  return name;
}

/**
 * Pulls `name` into the store, as podman does: each candidate of the short-name resolution in
 * turn, each through its mirrors then its registry, until one gives the image. Returns the records
 * (several with `allTags`).
 */
export async function pullImages(store: Store, name: string, opts: PullOptions = {}): Promise<ImageRecord[]> {
  const conf = opts.registriesConf ?? (await registriesConf(opts.env));
  const input = stripDockerTransport(name);
  const { candidates } = resolveShortName(conf, input);
  if (opts.allTags) {
    const ref = candidates[0]!;
    const typed = parseNormalizedNamed(input);
    if (typed.tag !== undefined || typed.digest !== undefined) {
      throw new BerthError('USAGE', `${input}: --all-tags takes a repository name without a tag or digest`);
    }
    const client = await RegistryClient.open(ref.domain, { ...opts, registriesConf: conf }, `${ref.domain}/${ref.path}`);
    try {
      const tags = await client.listTags(ref.path);
      const out: ImageRecord[] = [];
      for (const tag of tags) out.push(await pullOne(store, [withTag(ref, tag)], conf, opts, input));
      return out;
    } finally {
      client.close();
    }
  }
  return [await pullOne(store, candidates, conf, opts, input)];
}

async function pullOne(store: Store, candidates: ImageReference[], conf: RegistriesConf, opts: PullOptions, input: string): Promise<ImageRecord> {
  const errors: { ref: string; error: unknown }[] = [];
  for (const candidate of candidates) {
    const shown = formatReference(candidate);
    opts.onTrying?.(shown);
    // The policy judges the name asked for, whichever mirror serves it; a scope it rejects costs no request.
    refuseIfRejectedOutright(candidate, opts);
    for (const source of pullSources(conf, candidate)) {
      const ref = source.reference;
      const client = await RegistryClient.open(
        ref.domain,
        { ...opts, registriesConf: conf, ...(source.endpoint.insecure && opts.tlsVerify === undefined ? { tlsVerify: false } : {}) },
        `${ref.domain}/${ref.path}`,
      );
      try {
        let image;
        try {
          trace('pull: client ready');
          // A config the store holds already (the image pulled under another name) needs no request.
          image = await readRegistryImage(ref, { ...opts, client, localConfig: (digest) => store.blobs.read(digest) });
          trace('pull: manifest and config read');
        } catch (e) {
          errors.push({ ref: formatReference(ref), error: e });
          continue;
        }
        // Once the image is found, a failure while copying it is the answer (a bad blob is not retried elsewhere).
        const names =
          candidate.tag !== undefined ? [formatReference(withDefaultTag({ domain: candidate.domain, path: candidate.path, tag: candidate.tag }))] : [];
        // Read once: what the policy judged is what the store keeps (containers-storage keeps an image's signatures).
        // Out of an index that is the platform's own manifest (readRegistryImage picked it), not the index: containers/image
        // judges the instance it copies, and keeps that instance's signatures under its digest, which a push then writes.
        const signaturesOf = registrySignatureReader(candidate, opts.registriesDir, (digest) => readSigstoreSignatures(client, ref.path, digest));
        const admit = registryAdmission(candidate, opts, signaturesOf);
        const record = await copyIntoStore(store, registryImageSource(client, ref, image), names, {
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
          ...(admit ? { admit } : {}),
          ...(opts.removeSignatures ? {} : { signatures: (top: { digest: string }) => signaturesOf(top.digest) }),
          tmpDir: () => store.tmp.make('pull'),
        });
        trace('pull: image stored');
        return record;
      } finally {
        client.close();
      }
    }
  }
  if (errors.length === 1) {
    const { ref, error } = errors[0]!;
    throw new BerthError(codeOf(error), `initializing source docker://${ref}: ${(error as Error).message}`, { cause: error });
  }
  const lines = errors.map(({ ref, error }) => `docker://${ref}: ${(error as Error).message}`);
  throw new BerthError(codeOf(errors[0]?.error), `${errors.length} errors occurred while pulling ${input}: ${lines.join('; ')}`, { cause: errors[0]?.error });
}

function codeOf(e: unknown): ErrorCode {
  return isBerthError(e) ? e.code : 'IO';
}
