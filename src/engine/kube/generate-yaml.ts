import { Document } from 'yaml';
import { VERSION } from '../../util/version.js';

/**
 * The YAML as podman's `kube generate` prints it (Go's sigs.k8s.io/yaml): keys sorted, list items
 * at their key's indent, long strings on one line, and YAML 1.1 quoting, so that a string that
 * YAML 1.1 readers (Go's, kubectl's) would take for something else stays a string ("80", "TRUE",
 * a timestamp). An object met twice (a Deployment's labels and its template's) is written twice,
 * not as an anchor and alias. Documents are joined by `---`, under podman's header comment.
 */
const OPTIONS = { version: '1.1', sortMapEntries: true, indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false } as const;

export function kubeYaml(objects: readonly object[]): string {
  const header = ['# Save the output of this file and use kubectl create -f to import', '# it into Kubernetes.', '#', `# Created with berth-${VERSION}`].join(
    '\n',
  );
  return `${header}\n${objects.map((o) => new Document(o, OPTIONS).toString(OPTIONS)).join('---\n')}`;
}
