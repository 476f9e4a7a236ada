import { baseImage, commitImage } from '../../images/commit.js';
import type { ContainerConfig } from '../../../oci/manifest.js';
import { throughCache } from '../cached-step.js';
import { findStage, type Stage } from '../stages.js';
import type { BuildSession, StageState, StepOutcome } from '../state.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** FROM: the stage's first image (another stage's result, an image of the store, or scratch), read once. */
export async function startStage(session: BuildSession, stage: Stage, say: (text: string) => void, outcome: StepOutcome): Promise<StageState> {
  const { store, plan, format, created } = session;
  const dep = findStage(plan.stages, stage.base, stage.index);
  let imageId: string;
  if (dep) {
    imageId = session.results.get(dep.index)!;
  } else if (stage.base === 'scratch') {
    // An empty image, so that every step has a parent to key its cache on and RUN an image to run.
    const made = await throughCache(
      session,
      'scratch',
      'FROM scratch',
      async () => {
        const { record, image } = await commitImage(store, await baseImage(store, undefined), { config: {}, format, ...(created ? { created } : {}) });
        return { id: record.id, image };
      },
      say,
      outcome,
    );
    imageId = made.id;
  } else {
    imageId = await session.imageIdOf(stage.base);
  }
  const base = (dep ? session.resultImages.get(dep.index) : undefined) ?? (await baseImage(store, imageId));
  const run: ContainerConfig = structuredClone(base.config.config ?? {});
  // As buildah (imagebuilder's FromImage): a base without PATH gets the default one, first.
  if (!(run.Env ?? []).some((e) => e.startsWith('PATH='))) run.Env = [`PATH=${DEFAULT_PATH}`, ...(run.Env ?? [])];
  return { imageId, base, config: run, args: new Map(), cmdSet: false };
}
