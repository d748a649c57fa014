/** Matches a method and path against route patterns such as `/families/:id/transfers`. */

export interface RoutePattern {
  readonly method: string;
  /** Literal segments and `:name` parameters; matched segment by segment, no decoding. */
  readonly pattern: string;
}

export type RouteMatch<R extends RoutePattern> =
  | { readonly kind: 'found'; readonly route: R; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'method_not_allowed'; readonly pattern: string; readonly allowed: readonly string[] }
  | { readonly kind: 'not_found' };

interface Compiled<R> {
  readonly route: R;
  readonly segments: readonly string[];
}

/** A fixed table of routes. */
export class Router<R extends RoutePattern> {
  private readonly compiled: readonly Compiled<R>[];

  constructor(routes: readonly R[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.pattern.split('/').slice(1) }));
  }

  /** The route for `method` and `path` (the request target without its query string); HEAD is served by GET routes (RFC 9110). */
  match(method: string, path: string): RouteMatch<R> {
    // node:http sends no body for a HEAD request, so the GET handler answers it with the same headers.
    const wanted = method === 'HEAD' ? 'GET' : method;
    const segments = path.split('/').slice(1);
    const allowed: string[] = [];
    let pattern: string | null = null;
    for (const { route, segments: expected } of this.compiled) {
      const params = matchSegments(expected, segments);
      if (params === null) continue;
      if (route.method === wanted) return { kind: 'found', route, params };
      allowed.push(route.method);
      pattern ??= route.pattern;
    }
    return pattern === null ? { kind: 'not_found' } : { kind: 'method_not_allowed', pattern, allowed };
  }
}

function matchSegments(expected: readonly string[], actual: readonly string[]): Record<string, string> | null {
  if (expected.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of expected.entries()) {
    const value = actual[index];
    if (value === undefined) return null;
    if (part.startsWith(':')) {
      if (value === '') return null;
      params[part.slice(1)] = value;
    } else if (part !== value) {
      return null;
    }
  }
  return params;
}
