// The Docker API's /containers routes (issue 15: being filled in, one noun at a time).
import type { ApiApp, ApiContext, UpgradeRoute } from '../context.js';

export function containerRoutes(_app: ApiApp, _ctx: ApiContext): UpgradeRoute[] {
  return [];
}
