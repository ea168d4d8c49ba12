import type { IndexRow } from '../../store/index-tables.js';
import { dateKind } from './date.js';
import type { ElementKind } from './kind.js';
import { numberKind } from './number.js';
import { quantityKind } from './quantity.js';
import { referenceKind } from './reference.js';
import { stringKind } from './string.js';
import { tokenKind } from './token.js';
import { uriKind } from './uri.js';

/** The kinds whose values come from elements, by SearchParameter type: what a parameter or a composite's component can be. */
export const ELEMENT_KINDS: Readonly<Record<string, ElementKind<IndexRow>>> = {
  string: stringKind,
  token: tokenKind,
  date: dateKind,
  number: numberKind,
  quantity: quantityKind,
  uri: uriKind,
  reference: referenceKind,
};

/** The element kind of a SearchParameter type, if it is one. */
export const elementKind = (type: string | undefined): ElementKind<IndexRow> | undefined =>
  type !== undefined && Object.hasOwn(ELEMENT_KINDS, type) ? ELEMENT_KINDS[type] : undefined;
