import type { Instruction } from '../../../dockerfile/index.js';
import { BerthError } from '../../../util/errors.js';
import { isMetadata } from '../metadata.js';
import type { StepContext, StepHandler } from '../state.js';
import { handleArg } from './arg.js';
import { handleCopy } from './copy.js';
import { handleMetadata } from './metadata.js';
import { handleRun } from './run.js';

export { startStage } from './from.js';

/** The handler of each instruction kind after FROM; every other known kind is metadata. */
const HANDLERS: ReadonlyMap<string, StepHandler> = new Map([
  ['arg', handleArg],
  ['run', handleRun],
  ['copy', handleCopy],
  ['add', handleCopy],
]);

/** Runs one instruction of a stage (not its FROM) with its kind's handler. */
export async function runInstruction(ins: Instruction, step: StepContext): Promise<void> {
  if (ins.heredocs.length > 0 && ins.keyword !== 'run' && ins.keyword !== 'copy' && ins.keyword !== 'add') {
    throw new BerthError('DOCKERFILE_INVALID', `${ins.keyword.toUpperCase()} takes no here-document (line ${ins.startLine})`);
  }
  const handler = HANDLERS.get(ins.keyword) ?? (isMetadata(ins.keyword) ? handleMetadata : undefined);
  if (!handler) throw new BerthError('DOCKERFILE_INVALID', `unknown instruction: ${ins.value.toUpperCase()} (line ${ins.startLine})`);
  await handler(ins, step);
}
