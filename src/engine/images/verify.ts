import { parseNormalizedNamed } from '../../oci/reference.js';
import { readSigstoreSignatures, RegistryClient, type RegistryOptions, manifestReference } from '../../transports/docker/index.js';
import { type TrustOptions, type VerifyReport, verifyRegistryImage } from './admission.js';
import { registriesConf } from './pull.js';

/**
 * `image verify NAME`: a registry image's signatures, each checked with the keys the trust
 * policy names for it, and the policy's decision, without pulling anything (its manifest is read
 * for the digest the signatures must name).
 */
export async function verifyImage(name: string, opts: TrustOptions & RegistryOptions = {}): Promise<VerifyReport> {
  const ref = parseNormalizedNamed(name.replace(/^docker:\/\//, ''));
  const client = await RegistryClient.open(
    ref.domain,
    { ...opts, registriesConf: opts.registriesConf ?? (await registriesConf(opts.env)) },
    `${ref.domain}/${ref.path}`,
  );
  try {
    const top = await client.getManifest(ref.path, manifestReference(ref));
    return await verifyRegistryImage(ref, top.digest, opts, (digest) => readSigstoreSignatures(client, ref.path, digest));
  } finally {
    client.close();
  }
}
