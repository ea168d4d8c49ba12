/** Splits on separators not escaped with a backslash; the parts keep their escapes. */
export function splitEscaped(value: string, separator: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      cur += c + value[++i];
    } else if (c === separator) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** Splits a parameter value on unescaped commas (OR); `\,` `\|` `\$` `\\` stay escaped. */
export const splitValues = (value: string): string[] => splitEscaped(value, ',');

/** Splits a token-like value on its first unescaped `|`, then unescapes both parts. */
export function splitBar(value: string): [string | undefined, string] {
  const [first, ...rest] = splitEscaped(value, '|');
  return rest.length ? [unescape(first), unescape(rest.join('|'))] : [undefined, unescape(first)];
}

export function unescape(value: string): string {
  return value.replace(/\\([\\,|$])/g, '$1');
}
