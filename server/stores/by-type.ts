import { trailStore } from '../audit/trail-store.js';
import type { Storages } from '../search/parse.js';
import { resourceTables } from './resource-tables.js';
import type { Store } from './store.js';

/** The stores kept apart from the resource tables, by the type they hold (as HAPI has a DAO per special type). */
const APART = new Map<string, Store>([trailStore].flatMap((store) => (store.types ?? []).map((type) => [type, store] as const)));

/** The store of `type`: the resource tables unless it is kept apart (undefined, for a system-wide interaction: the resource tables). */
export const storeFor = (type: string | undefined): Store => (type !== undefined && APART.get(type)) || resourceTables;

/** The store a search of `types` runs on: a type kept apart is searched on its own (parseSearch sees to it). */
export const searchedStore = (types: string[]): Store => (types.length === 1 ? storeFor(types[0]) : resourceTables);

/** The stores, as parseSearch asks them. */
export const STORAGES: Storages = {
  apart: (type) => APART.get(type)?.apart,
  support: (types) => searchedStore(types).searchSupport,
};
