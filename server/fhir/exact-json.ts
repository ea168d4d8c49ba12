import { randomBytes } from 'node:crypto';
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';

/**
 * Decimals kept as the client wrote them (R4: "implementations SHALL preserve a decimal's
 * precision"): `1.50` stays `1.50`, not the `1.5` JSON.parse and JSON.stringify make of it. In
 * memory a decimal stays a number (validation, search extraction and FHIRPath compute with it);
 * its object or array carries the source text of the numbers whose text a number does not give
 * back, under a symbol key (which JSON, Object.keys and for…in ignore, and spreads copy).
 */
export const EXACT: unique symbol = Symbol('exact decimals');

/** On an object or array some of whose descendants carry exact decimals: stringifyExact looks at the top only. */
const WITHIN: unique symbol = Symbol('exact decimals within');

type Holder = { [EXACT]?: Record<string, string>; [WITHIN]?: true };

const flagged = (value: unknown) => value !== null && typeof value === 'object' && !!((value as Holder)[EXACT] || (value as Holder)[WITHIN]);

/**
 * A number token whose text String(Number(text)) does not give back may be in the text: a
 * whole token (after `:`, `,` or `[`, before `,`, `}` or `]`) with a fraction ending in 0, an
 * exponent, 16 digits or more before the point or 13 or more after it (a double holds 15 to 17
 * significant digits: 66.899999999999991 reads back as 66.89999999999999), or -0 (a string may
 * match too, rarely: only a cost).
 */
const MAY_HOLD_EXACT = /[:,[]\s*-?\d+(?:\.\d*0|(?:\.\d+)?[eE][-+]?\d+|\d{15,}(?:\.\d+)?|\.\d{13,})(?=\s*[,}\]])|[:,[]\s*-0(?=\s*[,}\]])/;

export const mayHoldExact = (text: string) => MAY_HOLD_EXACT.test(text);

/** Parses JSON known to be valid, keeping the text of the decimals a number would change. */
export function parseExact(text: string): unknown {
  if (!MAY_HOLD_EXACT.test(text)) return JSON.parse(text);
  return parseLossless(
    text,
    // Called on children before their parents: a flag climbs to the root.
    function (this: Holder, key, value) {
      if (!isLosslessNumber(value)) {
        if (flagged(value)) this[WITHIN] = true;
        return value;
      }
      const source = String(value);
      const number = Number(source);
      if (String(number) !== source) {
        // Assigned, not defined: a spread of the holder keeps it.
        this[EXACT] ??= {};
        this[EXACT][key] = source;
      }
      return number;
    },
    { onDuplicateKey: ({ newValue }) => newValue },
  );
}

/**
 * Whether a value holds decimals parseExact kept: flagged at its top, or a Bundle one of whose
 * entries' resources is (history pages and transaction responses are built of parsed resources).
 */
export function holdsExact(value: unknown): boolean {
  if (flagged(value)) return true;
  const entry = (value as { entry?: unknown } | null)?.entry;
  return Array.isArray(entry) && entry.some((e) => flagged((e as { resource?: unknown } | null)?.resource));
}

// Decimals pass through JSON.stringify as marked strings, then lose their quotes: the nonce keeps a client's string from passing for one.
const MARK = `\u0000${randomBytes(9).toString('base64url')}:`;
const MARKED = new RegExp(`"\\\\u0000${MARK.slice(1)}([^"]*)"`, 'g');

function keepExact(this: Holder, key: string, value: unknown): unknown {
  if (typeof value !== 'number') return value;
  const source = this[EXACT]?.[key];
  // A decimal changed since it was parsed is written as the number it now is.
  return source !== undefined && Number(source) === value ? MARK + source : value;
}

/** JSON.stringify, writing the decimals parseExact kept as their source text. */
export function stringifyExact(value: unknown, space?: number): string {
  if (!holdsExact(value)) return JSON.stringify(value, null, space);
  return JSON.stringify(value, keepExact, space).replace(MARKED, '$1');
}

/** A deep copy that keeps exact decimals (structuredClone drops symbol keys). */
export function cloneExact<T>(value: T): T {
  return holdsExact(value) ? (parseExact(stringifyExact(value)) as T) : structuredClone(value);
}

/** Gives `to`, an object built of some of `from`'s elements, what `from` knows of exact decimals (its own and that some lie within). */
export function carryExact(from: object, to: object): void {
  const source = from as Holder;
  const target = to as Holder;
  if (source[EXACT]) target[EXACT] = source[EXACT];
  if (source[WITHIN]) target[WITHIN] = true;
}
