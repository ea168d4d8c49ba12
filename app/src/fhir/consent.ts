import type { Bundle, Consent, ConsentProvision, ConsentProvisionActor, Parameters } from '@medplum/fhirtypes';

type Actor = ConsentProvisionActor['reference'];
import { matches } from './bundle.js';

/**
 * A patient's opposition as the server's rules read it (server/access/care-links.ts): on an active
 * Consent, a top `deny` without actor is global (only the médecin traitant keeps access); a `deny`
 * provision with actors opposes them.
 */
export interface Opposition {
  consent: Consent;
  /** The professional or structure opposed; none for the global opposition. */
  actor?: Actor;
  since?: string;
}

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const PRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP', display: 'primary information recipient' }] };

/** The search for a patient's consents in force. */
export const consentQuery = (patientId: string) => `Consent?patient=${encodeURIComponent(`Patient/${patientId}`)}&status=active&_count=50`;

/** The oppositions in force in a Consent search: the global one, then each professional opposed. */
export function oppositions(bundle: Bundle | undefined): Opposition[] {
  const out: Opposition[] = [];
  for (const consent of matches(bundle, 'Consent')) {
    if (consent.status !== 'active' || !consent.provision) continue;
    const top = consent.provision;
    for (const [prov, isTop] of [[top, true], ...(top.provision ?? []).map((p) => [p, false])] as [ConsentProvision, boolean][]) {
      if (prov.type !== 'deny') continue;
      const actors = (prov.actor ?? []).flatMap((a) => (a.reference?.reference ? [a.reference] : []));
      const since = prov.period?.start ?? consent.dateTime;
      if (!actors.length && isTop) out.push({ consent, since });
      for (const actor of actors) out.push({ consent, actor, since });
    }
  }
  return out.sort((a, b) => Number(Boolean(a.actor)) - Number(Boolean(b.actor)));
}

/** A new Consent recording the patient's opposition: global, or towards the professionals named. */
export function oppositionConsent(patientId: string, actors: Actor[], dateTime: string): Consent {
  const base: Consent = {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: `Patient/${patientId}` },
    dateTime,
  };
  if (!actors.length) return { ...base, policyRule: { coding: [{ system: ACT_CODE, code: 'OPTOUT', display: 'opt-out' }] }, provision: { type: 'deny' } };
  return {
    ...base,
    policyRule: { coding: [{ system: ACT_CODE, code: 'OPTIN', display: 'opt-in' }] },
    provision: { type: 'permit', provision: [{ type: 'deny', actor: actors.map((reference) => ({ role: PRCP, reference })) }] },
  };
}

/**
 * The Consent once the opposition is withdrawn: the actor taken out of its deny provisions, or
 * the Consent made inactive when nothing of it would still oppose (a deny left without actor at
 * the top would become a global opposition).
 */
export function withdrawn(o: Opposition): Consent {
  const { consent, actor } = o;
  const inactive: Consent = { ...consent, status: 'inactive' };
  if (!actor || !consent.provision) return inactive;
  const strip = (p: ConsentProvision) => p.actor?.filter((a) => a.reference?.reference !== actor.reference);
  const { actor: topActors, provision: nested, ...top } = consent.provision;
  const left = strip(consent.provision);
  if (top.type === 'deny' && !left?.length) return inactive;
  // A nested deny that named only this actor goes; one that never named any (a data restriction) stays.
  const kept = (nested ?? []).flatMap((p) => {
    const rest = strip(p);
    if (!p.actor?.length) return [p];
    return rest?.length ? [{ ...p, actor: rest }] : [];
  });
  return { ...consent, provision: { ...top, ...(topActors?.length && left?.length ? { actor: left } : {}), ...(kept.length ? { provision: kept } : {}) } };
}

/** The body of `$break-glass`. */
export const breakGlassRequest = (reason: string): Parameters => ({ resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: reason.trim() }] });

/** Until when the emergency access the server granted lasts. */
export const breakGlassUntil = (reply: Parameters): string | undefined => reply.parameter?.find((p) => p.name === 'until')?.valueInstant;
