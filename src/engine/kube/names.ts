/**
 * A name Kubernetes takes for a container, a volume or a Pod (an RFC 1123 label: lowercase letters,
 * digits and '-', at most 63, a letter or digit at each end). podman only drops underscores; a name
 * that is still not a label (capitals, dots) is lowercased and its other characters become '-'.
 */
export function kubeName(name: string, max = 63): string {
  const label = name
    .replaceAll('_', '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
  return label === '' ? 'x' : label;
}

/**
 * A bind's volume, named as podman names it after the host path (`/srv/data` is `srv-data`, `/`
 * is `root`) with `-host-N` after it; a long path is cut so the whole stays a label.
 */
export function hostVolumeName(source: string, index: number): string {
  const suffix = `-host-${index}`;
  const trimmed = source.replace(/^\/+|\/+$/g, '');
  const base = trimmed === '' ? 'root' : trimmed.replaceAll('/', '-');
  return `${kubeName(base, 63 - suffix.length)}${suffix}`;
}

/** Kubernetes' label syntax: a value (or a key's name part) of at most 63 alphanumerics, '-', '_' and '.', alphanumeric at each end. */
const LABEL_PART = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether a label (key and value) is one Kubernetes accepts: `[prefix/]name` with a DNS-subdomain prefix. */
export function isKubeLabel(key: string, value: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (name === '' || !LABEL_PART.test(name) || !LABEL_PART.test(value)) return false;
  return prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
}
