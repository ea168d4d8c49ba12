import type { Bundle, Coding, ValueSet } from '@medplum/fhirtypes';
import { useRef, useState } from 'preact/hooks';
import { batchOf } from '../../fhir/bundle.js';
import {
  directoryRows,
  directorySearches,
  expansionCodings,
  localSuggestions,
  TYPEAHEAD_VALUE_SETS,
  type DirectoryQuery,
  type DirectoryRow,
} from '../../fhir/directory.js';
import { useMe } from '../context.js';
import { PagedTable } from '../Paged.js';
import { asFhirError, Empty, ErrorBox, Loading, useReady } from '../states.js';
import { Typeahead } from '../Typeahead.js';
import type { FhirError } from '../../fhir/http.js';

/** Type-ahead by `ValueSet/$expand`; while the server cannot expand, the codes of the pôle's own roles. */
function useSpecialitySuggestions() {
  const me = useMe();
  const expandWorks = useRef<boolean>(undefined);
  const local = useRef<Promise<Bundle>>(undefined);
  return async (text: string): Promise<Coding[]> => {
    if (expandWorks.current !== false) {
      const params = (url: string) => new URLSearchParams({ url, filter: text, count: '8' });
      const reply = await me.session.fhir.post('', batchOf(TYPEAHEAD_VALUE_SETS.map((url) => `ValueSet/$expand?${params(url)}`))).catch(() => undefined);
      const expanded = (reply?.entry ?? []).filter((e) => e.resource?.resourceType === 'ValueSet').flatMap((e) => expansionCodings(e.resource as ValueSet));
      expandWorks.current = (reply?.entry ?? []).some((e) => e.resource?.resourceType === 'ValueSet');
      if (expandWorks.current) return expanded.slice(0, 10);
    }
    local.current ??= me.session.fhir.get('PractitionerRole?_elements=code,specialty&_count=1000');
    return localSuggestions(await local.current, text);
  };
}

/** The annuaire: professionals and structures by name, profession or specialty, commune, RPPS or FINESS (§3.3 D). */
export function Directory() {
  const me = useMe();
  const [query, setQuery] = useState<DirectoryQuery>({ name: '', commune: '', identifier: '' });
  const [rows, setRows] = useState<DirectoryRow[]>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FhirError>();
  const suggest = useSpecialitySuggestions();
  useReady('annuaire', true);
  const search = async (e: Event) => {
    e.preventDefault();
    const { roles, structures } = directorySearches(query);
    setBusy(true);
    setError(undefined);
    try {
      const [r, s] = await Promise.all([roles ? me.session.fhir.get(roles) : undefined, structures ? me.session.fhir.get(structures) : undefined]);
      setRows(directoryRows(r, s));
    } catch (err) {
      setError(asFhirError(err));
    } finally {
      setBusy(false);
    }
  };
  const field = (key: 'name' | 'commune' | 'identifier', label: string, hint?: string) => (
    <label>
      {label}
      <input value={query[key]} onInput={(e) => setQuery({ ...query, [key]: e.currentTarget.value })} aria-describedby={hint ? `hint-${key}` : undefined} />
      {hint && (
        <small id={`hint-${key}`} class="muted">
          {hint}
        </small>
      )}
    </label>
  );
  const empty = !query.name.trim() && !query.commune.trim() && !query.identifier.trim() && !query.speciality;
  return (
    <section aria-labelledby="h-annuaire">
      <h1 id="h-annuaire">Annuaire du pôle</h1>
      <form class="editor" role="search" onSubmit={search}>
        <div class="grid">
          {field('name', 'Nom')}
          <Typeahead
            id="speciality"
            label="Profession ou spécialité"
            value={query.speciality}
            onChange={(speciality) => setQuery({ ...query, speciality })}
            suggest={suggest}
          />
          {field('commune', 'Commune')}
          {field('identifier', 'Identifiant', 'RPPS (11 chiffres), IDNPS ou FINESS (9 caractères)')}
        </div>
        <p class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {empty ? 'Parcourir l’annuaire' : 'Rechercher'}
          </button>
        </p>
      </form>
      {busy ? (
        <Loading what="de l’annuaire" />
      ) : error ? (
        <ErrorBox error={error} />
      ) : rows === undefined ? (
        <Empty>Saisissez un critère, ou parcourez tout l’annuaire.</Empty>
      ) : rows.length ? (
        <PagedTable
          caption="Résultats"
          rows={rows}
          columns={[
            { header: 'Nom', cell: (r) => r.name },
            { header: 'Type', cell: (r) => (r.kind === 'structure' ? 'Structure' : 'Professionnel'), secondary: true },
            { header: 'Profession, spécialité ou type', cell: (r) => r.what || '—' },
            { header: 'Lieu', cell: (r) => r.where || '—' },
            { header: 'Identifiant', cell: (r) => r.identifier || '—', secondary: true },
            {
              header: 'Contact',
              cell: (r) => (
                <>
                  {r.phone && <a href={`tel:${r.phone.replace(/\s/g, '')}`}>{r.phone}</a>}
                  {r.phone && r.email && <br />}
                  {r.email && <a href={`mailto:${r.email}`}>{r.email}</a>}
                </>
              ),
            },
          ]}
        />
      ) : (
        <Empty>Aucun résultat pour ces critères.</Empty>
      )}
    </section>
  );
}
