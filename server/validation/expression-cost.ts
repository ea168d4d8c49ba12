import type { Resource } from '@medplum/fhirtypes';
import { fail } from '../fhir/outcome.js';

/**
 * The FHIRPath expressions of a definition the server evaluates once stored: a SearchParameter's
 * (at every write of its base types) and a StructureDefinition's invariants (at every validation
 * against it), with where they are.
 */
function storedExpressions(resource: Resource): [string, string][] {
  const found: [string, string][] = [];
  if (resource.resourceType === 'SearchParameter') {
    if (resource.expression) found.push(['SearchParameter.expression', resource.expression]);
    resource.component?.forEach((c, i) => c.expression && found.push([`SearchParameter.component[${i}].expression`, c.expression]));
  }
  if (resource.resourceType === 'StructureDefinition') {
    for (const part of ['snapshot', 'differential'] as const) {
      resource[part]?.element?.forEach((e, i) =>
        e.constraint?.forEach((c, j) => c.expression && found.push([`StructureDefinition.${part}.element[${i}].constraint[${j}].expression`, c.expression])),
      );
    }
  }
  return found;
}

/** `matches('…')` and `replaceMatches('…', …)`: the functions that run a regular expression. */
const REGEX_CALL = /\b(?:replaceMatches|matches)\s*\(\s*/g;

/**
 * Refuses (400 too-costly) a definition whose FHIRPath runs a regular expression that may
 * backtrack without end (`(a+)+`: nested repetition, exponential in the input's length), or one
 * not given as a literal (it could not be checked). Every write of a resource the definition
 * applies to would otherwise hold the event loop (ReDoS).
 */
export function checkExpressionCost(resource: Resource): void {
  for (const [where, expression] of storedExpressions(resource)) {
    for (const call of expression.matchAll(REGEX_CALL)) {
      const pattern = stringLiteralAt(expression, (call.index ?? 0) + call[0].length);
      const problem =
        pattern === undefined
          ? 'its pattern is not a string literal'
          : nestsRepetition(pattern)
            ? `its pattern ${pattern} repeats a repetition, which may backtrack exponentially`
            : undefined;
      if (problem) throw fail(400, 'too-costly', `${where}: ${call[0].trim().replace(/\($/, '')}() is refused: ${problem}`, [where]);
    }
  }
}

/** The value of the FHIRPath string literal at `start` (`'…'` with backslash escapes), if there is one. */
function stringLiteralAt(text: string, start: number): string | undefined {
  if (text[start] !== "'") return undefined;
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "'") return value;
    if (text[i] === '\\') {
      const next = text[++i] ?? '';
      value += next === "'" || next === '\\' ? next : `\\${next}`;
    } else value += text[i];
  }
  return undefined;
}

/**
 * Whether a regular expression repeats a group that itself holds a repetition (`(a+)+`,
 * `(\w*\s?)*`, `(?:x{2,}){3,}`): the star height above one of catastrophic backtracking.
 */
export function nestsRepetition(pattern: string): boolean {
  const open: boolean[] = []; // for each open group, whether what precedes it in its parent repeats
  let repeats = false; // whether the current group holds a repetition so far
  let closedRepeating = false; // whether the atom just read is a group holding a repetition
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    let atomRepeating = false;
    if (ch === '\\') i++;
    else if (ch === '[') {
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
    } else if (ch === '(') {
      open.push(repeats);
      repeats = false;
      closedRepeating = false;
      continue;
    } else if (ch === ')') {
      const inner: boolean = repeats;
      repeats = (open.pop() ?? false) || inner;
      atomRepeating = inner;
    } else {
      const quantifier = quantifierAt(pattern, i);
      if (quantifier) {
        if (quantifier.repeats && closedRepeating) return true;
        if (quantifier.repeats) repeats = true;
        i = quantifier.end;
        closedRepeating = false;
        continue;
      }
    }
    closedRepeating = atomRepeating;
  }
  return false;
}

/** The quantifier at `i` (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, with a lazy `?`), whether it may repeat, and its last index. */
function quantifierAt(pattern: string, i: number): { repeats: boolean; end: number } | undefined {
  const lazy = (end: number) => (pattern[end + 1] === '?' ? end + 1 : end);
  if (pattern[i] === '*' || pattern[i] === '+') return { repeats: true, end: lazy(i) };
  if (pattern[i] === '?') return { repeats: false, end: lazy(i) };
  const braces = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
  if (!braces) return undefined;
  const max = braces[2] === undefined ? Number(braces[1]) : braces[3] === '' ? Infinity : Number(braces[3]);
  return { repeats: max > 1, end: lazy(i + braces[0].length - 1) };
}
