import { BerthError } from './errors.js';

/** A `name=` filter's value as podman takes it for pods and volumes: a regular expression, or one error line. */
export function nameFilterRegExp(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch {
    throw new BerthError('USAGE', `invalid name filter "${value}": not a regular expression`);
  }
}
