/** `./NAME.mjs`, NAME without a directory or URL syntax: how esbuild names one chunk from another. */
const SIBLING = /^\.\/[\w.-]+\.mjs$/;

/**
 * The URL of a bundle chunk that `parentURL`, a file in the bundle's directory `dir` (a URL ending
 * in `/`), imports as `specifier`; undefined for anything else, which Node resolves itself.
 */
export function siblingChunkUrl(specifier: string, parentURL: string | undefined, dir: string): string | undefined {
  if (parentURL === undefined || parentURL.slice(0, parentURL.lastIndexOf('/') + 1) !== dir) return undefined;
  return SIBLING.test(specifier) ? dir + specifier.slice(2) : undefined;
}
