import type { Instruction } from '../../../dockerfile/index.js';
import { automaticArgs, checkFlags, splitArg } from '../stages.js';
import { expandWord, type StepContext } from '../state.js';

/** ARG: a build arg in scope for the rest of the stage (the given value, the default, or the global one). */
export async function handleArg(ins: Instruction, step: StepContext): Promise<void> {
  const { session, state } = step;
  checkFlags(ins, []);
  for (const word of ins.args) {
    const { name, value } = splitArg(word);
    session.consumed.add(name);
    // SOURCE_DATE_EPOCH from the environment or --source-date-epoch is an ARG value too, as podman gives it.
    const given =
      session.buildArgs.get(name) ??
      (name === 'SOURCE_DATE_EPOCH' && session.epoch !== undefined && session.opts.timestamp === undefined ? String(session.epoch) : undefined);
    const global = session.plan.globalArgs.get(name) ?? automaticArgs().get(name);
    state.args.set(name, given ?? (value !== undefined ? expandWord(step, value) : global));
  }
}
