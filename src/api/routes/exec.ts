// The Docker API's /exec routes (issue 15: being filled in, one noun at a time).
import type { ApiApp, ApiContext, UpgradeRoute } from '../context.js';

export function execRoutes(_app: ApiApp, _ctx: ApiContext): UpgradeRoute[] {
  return [];
}
