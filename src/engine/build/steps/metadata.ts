import { commitImage } from '../../images/commit.js';
import type { Instruction } from '../../../dockerfile/index.js';
import { advance } from '../cached-step.js';
import { applyMetadata } from '../metadata.js';
import { currentBase, expandWord, expandWords, type StepContext } from '../state.js';

/** ENV, LABEL, CMD, ENTRYPOINT, WORKDIR, USER, ONBUILD and the like: a new config, an image without a layer. */
export async function handleMetadata(ins: Instruction, step: StepContext): Promise<void> {
  const { session, state } = step;
  const { config, description } = applyMetadata(
    state.config,
    ins,
    (w) => expandWord(step, w),
    (w) => expandWords(step, w),
    state,
  );
  if (ins.keyword === 'healthcheck' && session.format === 'oci') {
    // The OCI config has no healthcheck: podman warns and leaves it out.
    step.say('[Warning] HEALTHCHECK is not supported for OCI image format and will be ignored. Must use `docker` format\n');
    delete config.Healthcheck;
  }
  state.config = config;
  await advance(step, description, async () => {
    const { record, image } = await commitImage(session.store, await currentBase(step), {
      config,
      history: { created_by: `/bin/sh -c #(nop) ${description}` },
      format: session.format,
      ...(session.created ? { created: session.created } : {}),
    });
    return { id: record.id, image };
  });
}
