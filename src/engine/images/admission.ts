import { formatReference, type ImageReference } from '../../oci/reference.js';
import { simpleSigningVerifier } from '../../signature/gpg.js';
import { loadPolicy, type Policy, type PolicyRequirement, requirementsFor } from '../../signature/policy.js';
import { evaluate, gpgKeys, rejectedOutright, sigstoreKeys } from '../../signature/policy-eval.js';
import { dockerImageUnderPolicy, dockerPolicyScope, pathImageUnderPolicy, pathPolicyScope } from '../../signature/policy-scopes.js';
import { sigstoreVerifier } from '../../signature/sigstore.js';
import type { PolicyDecision, SignedClaim, UnverifiedSignature, Verifiers } from '../../signature/types.js';
import type { TransportRef } from '../../transports/copy/index.js';
import { BerthError } from '../../util/errors.js';
import { dirSignatures, registrySignatures } from './image-signatures.js';

/**
 * The trust policy where an image enters berth (issue 17): pull (and so run, create and build of a
 * missing image), copy and sync from their source, load. The policy is asked twice: before any
 * request, for a scope that rejects outright, and once the source's top manifest is read, before
 * anything is written (copyImage's `admit`). A refusal is one line naming the image, why, and the
 * rule; nothing is stored.
 */
export interface TrustOptions {
  /** `--signature-policy FILE`. */
  signaturePolicy?: string;
  /** `--registries.d DIR`. */
  registriesDir?: string;
}

export const VERIFIERS: Verifiers = { simpleSigning: simpleSigningVerifier, sigstore: sigstoreVerifier };

type Admit = (top: { digest: string }) => Promise<void>;

function refuse(reason: string): never {
  throw new BerthError('POLICY_DENIED', `Source image rejected: ${reason}`);
}

/** Throws when the policy rejects `ref`'s scope outright: before any request for it. */
export function refuseIfRejectedOutright(ref: ImageReference, opts: TrustOptions): void {
  const policy = policyOf(opts);
  const early = policy && rejectedOutright(policy, { transport: 'docker', scope: dockerPolicyScope(ref) });
  if (early && !early.accepted) refuse(early.reason);
}

/**
 * The policy's check of a registry image named `ref` (the name asked for, which the policy and the
 * lookaside know it by), to run on its top manifest; undefined when no policy file exists.
 * Signatures come from the lookaside registries.d names for `ref`, and from the registry's
 * attachments where it says to use them (`attachments`: read from where the image comes from, a
 * mirror maybe).
 */
export function registryAdmission(ref: ImageReference, opts: TrustOptions, attachments: (digest: string) => Promise<UnverifiedSignature[]>): Admit | undefined {
  const policy = policyOf(opts);
  if (!policy) return undefined;
  return async (top) => {
    const decision = await evaluate(
      policy,
      dockerImageUnderPolicy(ref, top.digest),
      () => registrySignatures(ref, top.digest, opts.registriesDir, attachments),
      VERIFIERS,
    );
    if (!decision.accepted) refuse(decision.reason);
  };
}

const policyOf = (opts: TrustOptions): Policy | undefined => loadPolicy(opts.signaturePolicy !== undefined ? { signaturePolicy: opts.signaturePolicy } : {});

/**
 * The gate for an image read from a path (`load`, `copy` from `oci:`, `docker-archive:`, `dir:`…):
 * those transports have path scopes and no lookaside. A `dir:` image's signatures are its
 * `signature-N` files; OCI layouts and archives carry none (containers/image reads none from them),
 * so there only a policy that needs no signature lets an image in.
 */
export function pathAdmission(transport: string, path: string, opts: TrustOptions): Admit | undefined {
  const policy = policyOf(opts);
  if (!policy) return undefined;
  const early = rejectedOutright(policy, { transport, scope: pathPolicyScope(path) });
  if (early && !early.accepted) refuse(early.reason);
  return async (top) => {
    const signatures = async () => (transport === 'dir' ? dirSignatures(path, top.digest) : []);
    const decision = await evaluate(policy, pathImageUnderPolicy(transport, path, top.digest), signatures, VERIFIERS);
    if (!decision.accepted) refuse(decision.reason);
  };
}

/**
 * The policy's gate for a copy's source (skopeo copy and sync check theirs): a registry image as
 * pull's, a path-named one by its path scope, berth's own store not at all (what is in it was
 * admitted when it came in).
 */
export function sourceAdmission(src: TransportRef, opts: TrustOptions, attachments: (digest: string) => Promise<UnverifiedSignature[]>): Admit | undefined {
  if (src.transport === 'docker') {
    refuseIfRejectedOutright(src.ref, opts);
    return registryAdmission(src.ref, opts, attachments);
  }
  if (src.transport === 'berth') return undefined;
  return pathAdmission(src.transport, src.path, opts);
}

/** One signature of an image as `image verify` reports it. */
export interface SignatureReport {
  kind: UnverifiedSignature['kind'];
  /** What it claims, when some key the policy names verifies it. */
  claim?: SignedClaim;
  /** Why no key the policy names verifies it. */
  error?: string;
}

export interface VerifyReport {
  image: string;
  digest: string;
  signatures: SignatureReport[];
  /** The policy's decision; `undefined` when no policy file exists (berth then accepts anything). */
  decision: PolicyDecision | undefined;
}

/**
 * `image verify`: the signatures a registry image has (lookaside and, where registries.d says,
 * attachments), each checked with the keys the policy's section names, and the policy's decision.
 */
export async function verifyRegistryImage(
  ref: ImageReference,
  digest: string,
  opts: TrustOptions,
  attachments: (digest: string) => Promise<UnverifiedSignature[]>,
): Promise<VerifyReport> {
  const found = await registrySignatures(ref, digest, opts.registriesDir, attachments);
  const policy = policyOf(opts);
  const image = dockerImageUnderPolicy(ref, digest);
  const requirements = policy ? requirementsFor(policy, image).requirements : [];
  const verifiers = rememberingVerifiers(VERIFIERS);
  const signatures: SignatureReport[] = [];
  for (const sig of found) signatures.push(await checkWithAnyKey(sig, requirements, verifiers));
  const decision = policy ? await evaluate(policy, image, async () => found, verifiers) : undefined;
  return { image: formatReference(ref), digest, signatures, decision };
}

async function checkWithAnyKey(sig: UnverifiedSignature, requirements: PolicyRequirement[], verifiers: Verifiers): Promise<SignatureReport> {
  let error = 'no key of the policy applies to it';
  for (const r of requirements) {
    const attempts: (() => Promise<SignedClaim>)[] = [];
    if (sig.kind === 'simple-signing' && r.type === 'signedBy') attempts.push(() => verifiers.simpleSigning(sig.bytes, gpgKeys(r)));
    if (sig.kind === 'sigstore' && r.type === 'sigstoreSigned') {
      for (const key of sigstoreKeys(r)) attempts.push(() => verifiers.sigstore({ payload: sig.payload, annotations: sig.annotations }, key));
    }
    for (const attempt of attempts) {
      try {
        return { kind: sig.kind, claim: await attempt() };
      } catch (e) {
        error = (e as Error).message;
      }
    }
  }
  return { kind: sig.kind, error };
}

/**
 * Verifiers that remember each answer by signature and key, so that `image verify` checks a
 * signature once (a gpg run each) for both its report and the policy's decision.
 */
export function rememberingVerifiers(v: Verifiers): Verifiers {
  const seen = new WeakMap<object, Map<string, Promise<SignedClaim>>>();
  const once = (signature: object, key: object, check: () => Promise<SignedClaim>): Promise<SignedClaim> => {
    let byKey = seen.get(signature);
    if (!byKey) seen.set(signature, (byKey = new Map()));
    const k = JSON.stringify(key);
    let answer = byKey.get(k);
    if (!answer) byKey.set(k, (answer = check()));
    return answer;
  };
  return {
    simpleSigning: (bytes, keys) => once(bytes, keys, () => v.simpleSigning(bytes, keys)),
    sigstore: (sig, key) => once(sig.payload, key, () => v.sigstore(sig, key)),
  };
}
