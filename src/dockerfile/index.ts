export { parseDockerfile, type Dockerfile, type Instruction, type ParseWarning } from './parser.js';
export { dump, dumpInstruction, goQuote } from './dump.js';
export type { Directive, DirectiveName } from './directives.js';
export { chompHeredocContent, type Heredoc } from './heredoc.js';
export {
  envFromList,
  processWord,
  processWords,
  processWordWithMatches,
  type EnvLookup,
  type LexOptions,
  type WordExpansion,
} from './shell.js';
export { PatternMatcher, readDockerignore } from './dockerignore.js';
