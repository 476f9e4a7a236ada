// `kill -s`: the signal is checked before the command's own code loads (see container-commands.ts).
export { parseSignal } from '../../engine/containers/index.js';
