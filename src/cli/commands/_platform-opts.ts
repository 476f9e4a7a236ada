import { hostPlatform, parsePlatform, type Platform } from '../../engine/images/index.js';

/** `--platform`, or `--os`/`--arch`/`--variant` over the host's: pull's and run's image choice. */
export interface PlatformFlags {
  platform?: string;
  os?: string;
  arch?: string;
  variant?: string;
}

export function platformOf(opts: PlatformFlags): Platform | undefined {
  if (opts.platform) return parsePlatform(opts.platform);
  if (!opts.os && !opts.arch && !opts.variant) return undefined;
  const host = hostPlatform();
  return {
    os: opts.os ?? host.os,
    architecture: opts.arch ?? host.architecture,
    ...(opts.variant ? { variant: opts.variant } : !opts.arch && host.variant ? { variant: host.variant } : {}),
  };
}
