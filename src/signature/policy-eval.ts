/**
 * Whether a policy accepts an image (containers/image `IsRunningImageAllowed`): every requirement
 * of the section that applies must accept it. A signature requirement accepts when at least one
 * signature of its kind verifies with its keys, names the image's manifest digest and claims an
 * identity its signedIdentity accepts. The cryptography is the Verifiers' (GPG, sigstore); this
 * module judges only what a verified claim says.
 */
import { matchesSignedIdentity, type SignedIdentity } from './identity.js';
import { describeScope, requirementsFor, type Policy, type PolicyRequirement } from './policy.js';
import type { GpgKeys, ImageUnderPolicy, PolicyDecision, SignedClaim, SigstoreKey, UnverifiedSignature, Verifiers } from './types.js';

/** How the image is named in a decision: `docker://docker.io/library/busybox:latest`, `oci:/srv/layout`. */
export function imageName(image: ImageUnderPolicy): string {
  const name = image.transport === 'docker' ? (image.dockerReference ?? image.scope) : image.scope;
  return `${image.transport}${image.transport === 'docker' ? '://' : ':'}${name}`;
}

type SignatureRequirement = Extract<PolicyRequirement, { type: 'signedBy' | 'sigstoreSigned' }>;

/** Why a requirement refuses, or undefined when it accepts. */
type Verdict = string | undefined;

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What a verified claim must also say: the image's manifest, and an identity the rule accepts. */
function judgeClaim(claim: SignedClaim, image: ImageUnderPolicy, identity: SignedIdentity): Verdict {
  if (claim.manifestDigest !== image.manifestDigest) return `the signature is for another manifest (${claim.manifestDigest}, not ${image.manifestDigest})`;
  if (!matchesSignedIdentity(identity, image.dockerReference, claim.dockerReference)) {
    const intended = image.dockerReference ?? 'an image with no docker reference';
    return `signature for identity ${claim.dockerReference} is not accepted for ${intended} (signedIdentity ${identity.type})`;
  }
  return undefined;
}

/** Several signatures, none accepted: each one's reason, or the one reason when there was one. */
function summarise(reasons: string[], kind: string, otherKinds: number): string {
  if (reasons.length === 0) return otherKinds === 0 ? 'no signature' : `no ${kind} signature (${otherKinds} of another kind)`;
  if (reasons.length === 1) return reasons[0]!;
  return `none of the ${reasons.length} signatures is accepted: ${reasons.join('; ')}`;
}

/** The GPG keys a signedBy requirement names. */
export function gpgKeys(r: Extract<PolicyRequirement, { type: 'signedBy' }>): GpgKeys {
  if (r.keyData) return { keyData: r.keyData };
  return { keyPaths: r.keyPaths ?? (r.keyPath !== undefined ? [r.keyPath] : []) };
}

/** The keys a sigstoreSigned requirement names, each of which may have made a signature. */
export function sigstoreKeys(r: Extract<PolicyRequirement, { type: 'sigstoreSigned' }>): SigstoreKey[] {
  return [
    ...(r.keyPath !== undefined ? [{ keyPath: r.keyPath }] : []),
    ...(r.keyPaths ?? []).map((keyPath) => ({ keyPath })),
    ...(r.keyData ? [{ keyData: r.keyData }] : []),
    ...(r.keyDatas ?? []).map((keyData) => ({ keyData })),
  ];
}

/** A requirement berth can parse but not check, refused with the reason (never skipped: skipping would accept). */
function unsupported(r: SignatureRequirement): Verdict {
  if (r.type === 'signedBy') {
    return r.keyType === 'GPGKeys' ? undefined : `keyType ${r.keyType} is not implemented (only GPGKeys is, as in containers/image)`;
  }
  if (r.fulcio) return 'sigstoreSigned with fulcio needs a Fulcio certificate chain checked against Rekor, and berth has no Fulcio or Rekor support';
  if (r.pki) return 'sigstoreSigned with pki (X.509 certificates) is not supported by berth';
  if (r.rekorPublicKeyPath !== undefined || r.rekorPublicKeyPaths || r.rekorPublicKeyData || r.rekorPublicKeyDatas) {
    return 'sigstoreSigned with a Rekor public key needs a Rekor transparency-log check, and berth has no Rekor support';
  }
  return undefined;
}

async function checkSignatures(
  r: SignatureRequirement,
  image: ImageUnderPolicy,
  signatures: () => Promise<UnverifiedSignature[]>,
  verifiers: Verifiers,
): Promise<Verdict> {
  const refused = unsupported(r);
  if (refused) return refused;
  const wanted = r.type === 'signedBy' ? 'simple-signing' : 'sigstore';
  const reasons: string[] = [];
  let otherKinds = 0;
  for (const sig of await signatures()) {
    if (sig.kind !== wanted) {
      otherKinds++;
      continue;
    }
    let claim: SignedClaim;
    try {
      claim = await verifyOne(r, sig, verifiers);
    } catch (e) {
      reasons.push(messageOf(e));
      continue;
    }
    const verdict = judgeClaim(claim, image, r.signedIdentity);
    if (verdict === undefined) return undefined; // one accepted signature is enough
    reasons.push(verdict);
  }
  return summarise(reasons, wanted, otherKinds);
}

async function verifyOne(r: SignatureRequirement, sig: UnverifiedSignature, verifiers: Verifiers): Promise<SignedClaim> {
  if (r.type === 'signedBy' && sig.kind === 'simple-signing') return verifiers.simpleSigning(sig.bytes, gpgKeys(r));
  if (r.type === 'sigstoreSigned' && sig.kind === 'sigstore') {
    // Any of the keys may have made it; the first key's refusal is the one reported.
    let first: unknown;
    for (const key of sigstoreKeys(r)) {
      try {
        return await verifiers.sigstore({ payload: sig.payload, annotations: sig.annotations }, key);
      } catch (e) {
        first ??= e;
      }
    }
    throw first;
  }
  throw new Error('internal error: signature of the wrong kind');
}

async function check(r: PolicyRequirement, image: ImageUnderPolicy, signatures: () => Promise<UnverifiedSignature[]>, verifiers: Verifiers): Promise<Verdict> {
  switch (r.type) {
    case 'insecureAcceptAnything':
      return undefined;
    case 'reject':
      return 'rejected by the policy';
    case 'signedBaseLayer':
      return 'signedBaseLayer is not implemented (nor is it in containers/image)';
    case 'signedBy':
    case 'sigstoreSigned':
      return checkSignatures(r, image, signatures, verifiers);
  }
}

/**
 * The policy's decision on an image. `signatures` is called at most once, and only when a
 * requirement needs signatures (so an `insecureAcceptAnything` or `reject` scope costs no request).
 * A refusal's reason names the image, why, and the rule: the requirement type and where it is in
 * policy.json (`signedBy for transports.docker["quay.io"]`).
 */
export async function evaluate(
  policy: Policy,
  image: ImageUnderPolicy,
  signatures: () => Promise<UnverifiedSignature[]>,
  verifiers: Verifiers,
): Promise<PolicyDecision> {
  const match = requirementsFor(policy, image);
  let fetched: Promise<UnverifiedSignature[]> | undefined;
  const once = () => (fetched ??= signatures());
  for (const r of match.requirements) {
    const why = await check(r, image, once, verifiers);
    if (why !== undefined) return { accepted: false, reason: `${imageName(image)}: ${why} (${r.type} for ${describeScope(match)} in ${policy.source})` };
  }
  return { accepted: true };
}

/**
 * The refusal the policy makes before anything of the image is known: its section holds a `reject`.
 * A caller checks this first, so that a rejected image costs no request at all (not even for its
 * manifest); undefined means the full evaluate() is needed.
 */
export function rejectedOutright(policy: Policy, image: Omit<ImageUnderPolicy, 'manifestDigest'>): PolicyDecision | undefined {
  const match = requirementsFor(policy, image);
  if (!match.requirements.some((r) => r.type === 'reject')) return undefined;
  return {
    accepted: false,
    reason: `${imageName({ ...image, manifestDigest: '' })}: rejected by the policy (reject for ${describeScope(match)} in ${policy.source})`,
  };
}
