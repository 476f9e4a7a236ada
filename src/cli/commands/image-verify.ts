import { verifyImage } from '../../engine/images/index.js';
import { registryOptions, type RegistryFlags } from './_registry-opts.js';
import type { GlobalOptions } from '../context.js';

interface VerifyFlags extends RegistryFlags {
  format?: string;
}

/**
 * `image verify NAME`: the signatures found for a registry image and whether the trust policy
 * accepts it. Exit 0 when it does (or no policy file exists), 1 when it refuses, as `image exists`
 * answers with its exit code; errors reaching the registry are 125.
 */
export async function run(_g: GlobalOptions, name: string, f: VerifyFlags): Promise<number> {
  const report = await verifyImage(name, registryOptions(f));
  if (f.format === 'json') {
    const claim = (c: { dockerReference: string; manifestDigest: string } | undefined) =>
      c && { dockerReference: c.dockerReference, manifestDigest: c.manifestDigest };
    process.stdout.write(
      `${JSON.stringify(
        {
          image: report.image,
          digest: report.digest,
          signatures: report.signatures.map((s) => ({
            kind: s.kind,
            ...(s.claim ? { verified: true, claim: claim(s.claim) } : { verified: false, error: s.error }),
          })),
          policy: report.decision === undefined ? { accepted: true, reason: 'no policy.json: any image is accepted' } : report.decision,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const lines = [`Image: ${report.image}`, `Digest: ${report.digest}`, `Signatures: ${report.signatures.length}`];
    report.signatures.forEach((s, i) =>
      lines.push(`  ${i + 1}. ${s.kind}: ${s.claim ? `verified, for ${s.claim.dockerReference} ${s.claim.manifestDigest}` : `not verified: ${s.error}`}`),
    );
    const d = report.decision;
    lines.push(`Policy: ${d === undefined ? 'accepted (no policy.json: any image is accepted)' : d.accepted ? 'accepted' : `rejected: ${d.reason}`}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return report.decision === undefined || report.decision.accepted ? 0 : 1;
}
