import { randomInt } from '../../util/crypto.js';
import { BerthError } from '../../util/errors.js';

// Docker's and podman's grammar for container names.
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function validateName(name: string): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME.test(bare)) throw new BerthError('USAGE', `names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`);
  return bare;
}

const ADJECTIVES = [
  'admiring',
  'brave',
  'calm',
  'dazzling',
  'eager',
  'festive',
  'gifted',
  'happy',
  'jolly',
  'keen',
  'loving',
  'modest',
  'nifty',
  'optimistic',
  'peaceful',
  'quirky',
  'relaxed',
  'serene',
  'tender',
  'upbeat',
  'vibrant',
  'wizardly',
  'youthful',
  'zealous',
  'bold',
  'clever',
  'elegant',
  'fervent',
  'gracious',
  'hopeful',
];
const NAMES = [
  'albattani',
  'babbage',
  'curie',
  'darwin',
  'euler',
  'fermat',
  'galileo',
  'hopper',
  'hypatia',
  'johnson',
  'kepler',
  'lamarr',
  'lovelace',
  'meitner',
  'newton',
  'noether',
  'pascal',
  'ritchie',
  'shannon',
  'tesla',
  'turing',
  'wozniak',
  'yalow',
  'zhukovsky',
  'bohr',
  'dijkstra',
  'goldberg',
  'knuth',
  'liskov',
  'mcclintock',
];

/** A readable name like podman's ("brave_turing"), free among `taken`. */
export function generateName(taken: ReadonlySet<string>): string {
  for (let i = 0; ; i++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NAMES[randomInt(NAMES.length)]}`;
    const name = i < 20 ? base : `${base}${randomInt(1000)}`;
    if (!taken.has(name)) return name;
  }
}
