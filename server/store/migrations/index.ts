import * as initial from './001-initial.js';
import * as auth from './002-auth.js';
import * as search from './003-search.js';
import * as oauth from './004-oauth.js';
import * as searchPlans from './005-search-plans.js';
import * as access from './006-access.js';
import * as accessChecks from './007-access-checks.js';
import * as referenceRids from './008-reference-rids.js';
import * as accessFunctions from './009-access-functions.js';
import * as referenceUrls from './010-reference-urls.js';
import * as searchAtScale from './011-search-at-scale.js';
import * as inlineChecks from './012-inline-checks.js';
import * as noReverseReferenceIndex from './013-no-reverse-reference-index.js';
import * as lz4Contents from './014-lz4-contents.js';
import * as derivedReferences from './015-derived-references.js';
import * as auditTrail from './016-audit-trail.js';
import * as versionPatients from './017-version-patients.js';
import * as changeFeed from './018-change-feed.js';
import * as bulk from './019-bulk.js';
import * as stayLinks from './020-stay-links.js';
import * as topics from './021-topics.js';
import * as bulkDeleted from './022-bulk-deleted.js';

/** Every schema version, in order. A migration is never edited once released: add a new one. */
export const migrations: { version: number; name: string; statements: string[] }[] = [
  { version: 1, name: 'initial', statements: initial.statements },
  { version: 2, name: 'auth', statements: auth.statements },
  { version: 3, name: 'search', statements: search.statements },
  { version: 4, name: 'oauth', statements: oauth.statements },
  { version: 5, name: 'search-plans', statements: searchPlans.statements },
  { version: 6, name: 'access', statements: access.statements },
  { version: 7, name: 'access-checks', statements: accessChecks.statements },
  { version: 8, name: 'reference-rids', statements: referenceRids.statements },
  { version: 9, name: 'access-functions', statements: accessFunctions.statements },
  { version: 10, name: 'reference-urls', statements: referenceUrls.statements },
  { version: 11, name: 'search-at-scale', statements: searchAtScale.statements },
  { version: 12, name: 'inline-checks', statements: inlineChecks.statements },
  { version: 13, name: 'no-reverse-reference-index', statements: noReverseReferenceIndex.statements },
  { version: 14, name: 'lz4-contents', statements: lz4Contents.statements },
  { version: 15, name: 'derived-references', statements: derivedReferences.statements },
  { version: 16, name: 'audit-trail', statements: auditTrail.statements },
  { version: 17, name: 'version-patients', statements: versionPatients.statements },
  { version: 18, name: 'change-feed', statements: changeFeed.statements },
  { version: 19, name: 'bulk', statements: bulk.statements },
  { version: 20, name: 'stay-links', statements: stayLinks.statements },
  { version: 21, name: 'topics', statements: topics.statements },
  { version: 22, name: 'bulk-deleted', statements: bulkDeleted.statements },
];
