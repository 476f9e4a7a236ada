/**
 * What signing and verifying share (issue 17), as containers/image defines it: a signature claims
 * that a manifest digest is the image of a docker reference; a policy says whose claims to accept.
 * Three modules meet here: `policy.ts` (policy.json and its evaluation), `simple-signing.ts` with
 * `gpg.ts` (GPG "atomic" signatures, stored in lookaside folders), and `sigstore.ts` (cosign-style
 * signatures, attached to the image in its registry).
 */

/** The claim inside every signature: containers/image's simple-signing payload, once verified. */
export interface SignedClaim {
  /** critical.identity.docker-reference, as written by the signer (e.g. `registry.example/app:1`). */
  dockerReference: string;
  /** critical.image.docker-manifest-digest (`sha256:…`). */
  manifestDigest: string;
}

/** A signature as found, not yet verified. */
export type UnverifiedSignature =
  /** GPG simple signing: an OpenPGP signed message (binary) whose literal data is the JSON payload. */
  | { kind: 'simple-signing'; bytes: Uint8Array }
  /** sigstore: the payload layer's bytes and its manifest annotations (`dev.cosignproject.cosign/signature`, …). */
  | { kind: 'sigstore'; payload: Uint8Array; annotations: Record<string, string> };

/** The keys a `signedBy` requirement names (one of keyPath, keyPaths, keyData: armored or binary OpenPGP). */
export interface GpgKeys {
  keyPaths?: string[];
  keyData?: Uint8Array;
}

/** The key a `sigstoreSigned` requirement names (a PEM public key, ECDSA P-256 as cosign makes). */
export interface SigstoreKey {
  keyPath?: string;
  keyData?: Uint8Array;
}

/**
 * Checks one signature's cryptography and returns the claim it makes, or throws a BerthError whose
 * message says why not ("signed by an unknown key", "invalid signature", …). Identity (does the
 * claim match the image?) is the policy's to judge, not the verifier's.
 */
export interface Verifiers {
  simpleSigning(signature: Uint8Array, keys: GpgKeys): Promise<SignedClaim>;
  sigstore(signature: { payload: Uint8Array; annotations: Record<string, string> }, key: SigstoreKey): Promise<SignedClaim>;
}

/** The image a policy is asked about. */
export interface ImageUnderPolicy {
  /** containers/image transport name: `docker`, `oci`, `oci-archive`, `docker-archive`, `dir`, `docker-daemon`, … */
  transport: string;
  /** The policy scope of the image in that transport (for docker: the normalized reference, e.g. `docker.io/library/busybox:latest`). */
  scope: string;
  /** Its docker reference, when it has one (what signedIdentity rules compare against). */
  dockerReference?: string;
  /** The digest of its manifest (what a signature must name). */
  manifestDigest: string;
}

export type PolicyDecision = { accepted: true } | { accepted: false; reason: string };
