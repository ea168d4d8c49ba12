/** Text that NFD leaves as it is and that has no combining mark: most values. */
const ASCII = /^[\x00-\x7f]*$/;

/** The form string search values are compared in: lower case, accents removed, spaces collapsed. */
export function normalizeString(value: string): string {
  const unaccented = ASCII.test(value) ? value : value.normalize('NFD').replace(/\p{M}/gu, '');
  return unaccented.toLowerCase().replace(/\s+/g, ' ').trim();
}
