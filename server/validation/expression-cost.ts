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

/** One element of a pattern: an atom (a character, an escape, a class) or a group, and how it is quantified. */
interface Item {
  atom?: string;
  group?: Item[][];
  repeats: boolean;
  optional: boolean;
}

/**
 * Whether a regular expression repeats a group that itself holds a repetition (`(a+)+`,
 * `(\w*\s?)*`, `(?:x{2,}){3,}`): the star height above one of catastrophic backtracking. A
 * repeated group that begins with a character none of its inner repetitions can match
 * (`(\.[a-z]+)*`, `(,\d+)*`: each turn starts at a separator) is unambiguous, and allowed.
 */
export function nestsRepetition(pattern: string): boolean {
  const check = (alternatives: Item[][]): boolean =>
    alternatives.some((items) =>
      items.some((item) => {
        if (!item.group) return false;
        if (item.repeats && !separated(item.group)) return true;
        return check(item.group);
      }),
    );
  return check(parse(pattern, { i: 0 }));
}

/** Whether every turn of a repeated group starts at a character that its inner repetitions cannot consume. */
function separated(alternatives: Item[][]): boolean {
  const inner = alternatives.flatMap(repetitions);
  if (!inner.length) return true;
  if (alternatives.length !== 1) return false;
  const first = alternatives[0][0];
  const literal = first && !first.optional && first.atom !== undefined ? literalOf(first.atom) : undefined;
  if (literal === undefined) return false;
  return inner.every((item) => item.atom !== undefined && !matchesChar(item.atom, literal));
}

/** The repeated items of a sequence, at any depth. */
function repetitions(items: Item[]): Item[] {
  return items.flatMap((item) => [...(item.repeats ? [item] : []), ...(item.group ? item.group.flatMap(repetitions) : [])]);
}

/** The character an atom stands for, when it is one literal character (`a`, `\.`, `\:`). */
function literalOf(atom: string): string | undefined {
  if (atom.length === 1 && !'.^$'.includes(atom)) return atom;
  if (atom.length === 2 && atom[0] === '\\' && /[^\w\s]/.test(atom[1])) return atom[1];
  return undefined;
}

function matchesChar(atom: string, ch: string): boolean {
  try {
    return new RegExp(`^(?:${atom})$`, 's').test(ch);
  } catch {
    return true;
  }
}

/** Parses alternatives up to the end of the pattern or of the group being read (its `)` consumed). */
function parse(pattern: string, at: { i: number }): Item[][] {
  const alternatives: Item[][] = [[]];
  while (at.i < pattern.length) {
    const ch = pattern[at.i];
    if (ch === ')') {
      at.i++;
      break;
    }
    if (ch === '|') {
      alternatives.push([]);
      at.i++;
      continue;
    }
    let item: Item;
    if (ch === '(') {
      at.i++;
      // (?:…), (?=…), (?!…), (?<=…), (?<!…), (?<name>…): the prefix is not part of the body.
      const prefix = /^\?(?::|=|!|<=|<!|<[A-Za-z_]\w*>)/.exec(pattern.slice(at.i));
      if (prefix) at.i += prefix[0].length;
      item = { group: parse(pattern, at), repeats: false, optional: false };
    } else {
      const start = at.i;
      if (ch === '\\') at.i += 2;
      else if (ch === '[') {
        for (at.i++; at.i < pattern.length && pattern[at.i] !== ']'; at.i++) if (pattern[at.i] === '\\') at.i++;
        at.i++;
      } else at.i++;
      item = { atom: pattern.slice(start, at.i), repeats: false, optional: false };
    }
    const quantifier = quantifierAt(pattern, at.i);
    if (quantifier) {
      item.repeats = quantifier.repeats;
      item.optional = quantifier.optional;
      at.i = quantifier.end + 1;
    }
    alternatives[alternatives.length - 1].push(item);
  }
  return alternatives;
}

/** The quantifier at `i` (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, with a lazy `?`): whether it may repeat or skip, and its last index. */
function quantifierAt(pattern: string, i: number): { repeats: boolean; optional: boolean; end: number } | undefined {
  const lazy = (end: number) => (pattern[end + 1] === '?' ? end + 1 : end);
  if (pattern[i] === '*') return { repeats: true, optional: true, end: lazy(i) };
  if (pattern[i] === '+') return { repeats: true, optional: false, end: lazy(i) };
  if (pattern[i] === '?') return { repeats: false, optional: true, end: lazy(i) };
  const braces = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
  if (!braces) return undefined;
  const min = Number(braces[1]);
  const max = braces[2] === undefined ? min : braces[3] === '' ? Infinity : Number(braces[3]);
  return { repeats: max > 1, optional: min === 0, end: lazy(i + braces[0].length - 1) };
}
