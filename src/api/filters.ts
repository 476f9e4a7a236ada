// Docker's `filters` query parameter: JSON of key to values, either `{"label":["a=b"]}` or, from
// clients older than API 1.22 that docker-py still speaks, `{"label":{"a=b":true}}`.
import { badRequest } from './errors.js';

export type Filters = Record<string, string[]>;

export function parseFilters(raw: string | undefined): Filters {
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid filter: ${raw} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest(`invalid filter: ${raw} is not an object`);
  const filters: Filters = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) filters[key] = value;
    else if (typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'boolean')) {
      filters[key] = Object.entries(value as Record<string, boolean>)
        .filter(([, on]) => on)
        .map(([v]) => v);
    } else throw badRequest(`invalid filter: the values of "${key}" must be a list of strings`);
  }
  return filters;
}

/** The filters as podman's `--filter key=value` arguments, the form the engine's list functions take. */
export const filterArgs = (filters: Filters): string[] => Object.entries(filters).flatMap(([key, values]) => values.map((v) => `${key}=${v}`));
