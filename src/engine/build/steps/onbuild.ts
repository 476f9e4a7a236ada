import { parseDockerfile, type Instruction } from '../../../dockerfile/index.js';
import type { StageState } from '../state.js';

/**
 * The base image's ONBUILD triggers, taken out of the stage's config: they run first, before the
 * stage's own instructions, and are not passed on to the images the stage makes.
 */
export function takeTriggers(state: StageState): Instruction[] {
  const triggers = (state.config.OnBuild as string[] | null | undefined) ?? [];
  if (triggers.length === 0) return [];
  state.config.OnBuild = null;
  return parseDockerfile(triggers.join('\n')).instructions;
}
