/**
 * Kubernetes' canonical quantities, as podman writes limits through apimachinery's Quantity: memory
 * in bytes with the largest binary suffix that divides it (64Mi, 1536Ki, 100000000), CPUs in
 * thousandths (500m, 1500m, or 2 when whole).
 */
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

export function memoryQuantity(bytes: number): string {
  let n = Math.floor(bytes);
  let i = 0;
  while (i < BINARY_SUFFIXES.length - 1 && n >= 1024 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  return `${n}${BINARY_SUFFIXES[i]}`;
}

/** undefined below a thousandth of a CPU: Kubernetes allows no finer limit, and podman then writes none. */
export function cpuQuantity(cpus: number): string | undefined {
  const milli = Math.floor(cpus * 1000 + 1e-9);
  if (milli < 1) return undefined;
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}
