import { badRequest } from './errors.js';

/**
 * A request's JSON body as the Docker API takes one: an empty body is `{}`, anything that is not a
 * JSON object a 400 naming `what` (the request body, the exec start body…).
 */
export function jsonObject(text: string, what = 'the request body'): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(`invalid JSON in ${what}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest(`${what} must be a JSON object`);
  return parsed as Record<string, unknown>;
}
