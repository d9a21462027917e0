/**
 * Compiles a configured regular expression for full-match use: the whole value must match, as in
 * Envoy's `safe_regex` and Istio's `regex` matchers. The pattern is wrapped as `^(?:…)$`, so
 * `/users/[0-9]+` matches `/users/42` but neither `/users/42/x` nor `/x/users/42`, and `v1|v2`
 * matches `v1` but not `v10`. JavaScript syntax, no flags: matching is case-sensitive.
 *
 * Throws a `SyntaxError` for an invalid pattern.
 */
export function compileFullMatch(source: string): RegExp {
  // Compiled alone first: an unbalanced pattern such as `a)|(b` is valid once wrapped and would
  // silently escape the anchoring group.
  new RegExp(source);
  return new RegExp(`^(?:${source})$`);
}
