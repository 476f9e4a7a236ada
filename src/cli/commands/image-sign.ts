import { signImages } from '../../engine/images/index.js';
import type { GlobalOptions } from '../context.js';
import { registryOptions, type RegistryFlags } from './_registry-opts.js';
import { gpgSigning, type SigningFlags } from './_sign-opts.js';

interface ImageSignFlags extends RegistryFlags, SigningFlags {
  directory?: string;
  all?: boolean;
}

/**
 * `berth image sign --sign-by FPR IMAGE...` (podman's): signs each image's manifest as its registry
 * serves it, writing the signature to the lookaside (or --directory). Prints nothing, as podman.
 */
export async function run(_g: GlobalOptions, images: string[], f: ImageSignFlags): Promise<void> {
  const signing = gpgSigning(f)!;
  await signImages(images, {
    ...registryOptions(f),
    ...signing,
    ...(f.directory !== undefined ? { directory: f.directory } : {}),
    ...(f.all ? { all: true } : {}),
  });
}
