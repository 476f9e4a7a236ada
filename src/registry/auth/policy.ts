// Who may do what: the [[access]] rules of the config, first match wins. Requests without credentials are
// the user undefined; "anonymous" in a list admits everyone, "*" every authenticated user.
import { ANONYMOUS, ANY_USER, matchPattern, REPOSITORY_ACTIONS, type AccessRule, type AuthConfig, type RepositoryAction } from './config.js';
import type { AccessEntry } from './tokens.js';

export class AccessPolicy {
  constructor(private readonly config: Pick<AuthConfig, 'access' | 'catalog'>) {}

  private static admits(list: readonly string[], user: string | undefined): boolean {
    return list.includes(ANONYMOUS) || (user !== undefined && (list.includes(ANY_USER) || list.includes(user)));
  }

  /** The rule for a repository; with no rules at all, users may do everything and anonymous requests nothing. */
  private rule(repository: string): AccessRule | undefined {
    if (this.config.access.length === 0) return { repository: '**', pull: [ANY_USER], push: [ANY_USER], delete: [ANY_USER] };
    return this.config.access.find((r) => matchPattern(r.repository, repository));
  }

  allowed(user: string | undefined, repository: string): RepositoryAction[] {
    const rule = this.rule(repository);
    if (!rule) return [];
    return REPOSITORY_ACTIONS.filter((a) => AccessPolicy.admits(rule[a], user));
  }

  may(user: string | undefined, repository: string, action: RepositoryAction): boolean {
    return this.allowed(user, repository).includes(action);
  }

  mayListCatalog(user: string | undefined): boolean {
    return AccessPolicy.admits(this.config.catalog, user);
  }

  /** What a token for `user` may grant of the requested scopes: each one cut down to what the rules allow. */
  grant(user: string | undefined, requested: AccessEntry[]): AccessEntry[] {
    const out: AccessEntry[] = [];
    for (const r of requested) {
      let actions: string[] = [];
      if (r.type === 'repository') {
        const allowed = this.allowed(user, r.name);
        actions = r.actions.includes('*') ? allowed : r.actions.filter((a): a is RepositoryAction => (allowed as string[]).includes(a));
      } else if (r.type === 'registry' && r.name === 'catalog' && r.actions.includes('*') && this.mayListCatalog(user)) actions = ['*'];
      if (actions.length === 0) continue;
      const same = out.find((e) => e.type === r.type && e.name === r.name);
      if (same) same.actions = [...new Set([...same.actions, ...actions])];
      else out.push({ type: r.type, name: r.name, actions: [...new Set(actions)] });
    }
    return out;
  }
}
