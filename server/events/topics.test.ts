import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { dueAt } from './time-events.js';
import { filterKeys, filtersMatch, topicSettings } from './topic-rules.js';
import { TOPICS, topicFires, type Interaction } from './topics.js';

const topic = (code: string) => TOPICS.find((t) => t.code === code) as (typeof TOPICS)[number];
const fires = (code: string, interaction: Interaction, before?: object, after?: object) =>
  topicFires(topic(code), { interaction, before: before as Resource | undefined, after: after as Resource | undefined });
const stay = (status: string, extra: object = {}) => ({
  resourceType: 'Encounter',
  status,
  class: { code: 'IMP' },
  subject: { reference: 'Patient/p' },
  ...extra,
});

describe("the pôle's topics", () => {
  it('admission, discharge and transfer follow an inpatient stay’s status and place, and ignore outpatient visits', () => {
    expect(fires('admission', 'create', undefined, stay('in-progress'))).toBe(true);
    expect(fires('admission', 'update', stay('planned'), stay('arrived'))).toBe(true);
    expect(fires('admission', 'update', stay('in-progress'), stay('in-progress', { reasonCode: [{ text: 'x' }] }))).toBe(false);
    expect(fires('admission', 'create', undefined, { ...stay('in-progress'), class: { code: 'AMB' } })).toBe(false);
    expect(fires('discharge', 'update', stay('in-progress'), stay('finished'))).toBe(true);
    expect(fires('discharge', 'update', stay('in-progress'), stay('in-progress', { period: { end: '2026-12-01' } }))).toBe(true);
    expect(fires('discharge', 'update', stay('finished'), stay('finished', { period: { end: '2026-12-01' } }))).toBe(false);
    expect(fires('discharge', 'update', stay('in-progress'), stay('in-progress'))).toBe(false);
    const at = (ref: string) => ({ location: [{ location: { reference: ref }, status: 'active' }] });
    expect(fires('transfer', 'update', stay('in-progress', at('Location/cardio')), stay('in-progress', at('Location/ssr')))).toBe(true);
    expect(fires('transfer', 'update', stay('in-progress', at('Location/cardio')), stay('in-progress', at('Location/cardio')))).toBe(false);
    expect(fires('transfer', 'create', undefined, stay('in-progress', at('Location/cardio')))).toBe(false);
    // A deleted inpatient stay is an event of its topics (the subscriber learns which, not what).
    expect(fires('discharge', 'delete', stay('finished'), undefined)).toBe(true);
    expect(fires('discharge', 'delete', { ...stay('finished'), class: { code: 'AMB' } }, undefined)).toBe(false);
  });

  it('a cercle de soins fires when a member joins or leaves, not when something else changes', () => {
    const team = (...members: [string, string?][]) => ({
      resourceType: 'CareTeam',
      subject: { reference: 'Patient/p' },
      participant: members.map(([m, end]) => ({ member: { reference: m }, ...(end ? { period: { end } } : {}) })),
    });
    expect(fires('care-team-member', 'create', undefined, team(['PractitionerRole/a']))).toBe(true);
    expect(fires('care-team-member', 'update', team(['PractitionerRole/a']), team(['PractitionerRole/a'], ['PractitionerRole/b']))).toBe(true);
    expect(
      fires(
        'care-team-member',
        'update',
        team(['PractitionerRole/a'], ['PractitionerRole/b']),
        team(['PractitionerRole/a'], ['PractitionerRole/b', '2026-12-01']),
      ),
    ).toBe(true);
    expect(fires('care-team-member', 'update', team(['PractitionerRole/a']), { ...team(['PractitionerRole/a']), name: 'Cercle' })).toBe(false);
  });

  it('a concertation fires when booked or moved; tasks when they have an owner; timed topics only on their time events', () => {
    const meeting = (status: string, start: string) => ({
      resourceType: 'Appointment',
      status,
      start,
      serviceType: [{ coding: [{ code: 'concertation-pluripro' }] }],
      participant: [{ actor: { reference: 'PractitionerRole/a' }, status: 'accepted' }],
    });
    expect(fires('concertation', 'create', undefined, meeting('booked', '2026-12-10T12:00:00Z'))).toBe(true);
    expect(fires('concertation', 'update', meeting('booked', '2026-12-10T12:00:00Z'), meeting('booked', '2026-12-11T12:00:00Z'))).toBe(true);
    expect(fires('concertation', 'update', meeting('booked', '2026-12-10T12:00:00Z'), meeting('booked', '2026-12-10T12:00:00Z'))).toBe(false);
    expect(fires('concertation', 'create', undefined, { ...meeting('booked', '2026-12-10T12:00:00Z'), serviceType: [] })).toBe(false);
    const task = { resourceType: 'Task', status: 'requested', owner: { reference: 'PractitionerRole/a' } };
    expect(fires('task-owner', 'create', undefined, task)).toBe(true);
    expect(fires('task-owner', 'create', undefined, { ...task, owner: undefined })).toBe(false);
    expect(fires('task-overdue', 'update', task, task)).toBe(false);
    expect(fires('task-overdue', 'time:task-overdue', undefined, task)).toBe(true);
    expect(fires('task-owner', 'time:task-overdue', undefined, task)).toBe(false);
  });

  it('reads the backport’s filters, refuses those it cannot apply, and matches references in any form', () => {
    const subscription = (filters: string[]) =>
      ({
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'x',
        criteria: 'https://fhir.maillage.fr/SubscriptionTopic/task-owner',
        _criteria: {
          extension: filters.map((valueString) => ({
            url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria',
            valueString,
          })),
        },
        channel: { type: 'rest-hook', endpoint: 'https://example.org/hook', payload: 'application/fhir+json' },
      }) as never;
    const settings = topicSettings(subscription(['Task?owner=PractitionerRole/a', 'patient=http://example.org/fhir/Patient/p']));
    expect(settings.filters).toEqual([
      { param: 'owner', value: 'PractitionerRole/a' },
      { param: 'patient', value: 'Patient/p' },
    ]);
    expect(settings.content).toBe('id-only');
    const task = (owner: string) => ({ resourceType: 'Task', owner: { reference: owner }, for: { reference: 'Patient/p' } }) as Resource;
    expect(filtersMatch(settings, filterKeys(settings.topic, task('PractitionerRole/a')))).toBe(true);
    expect(filtersMatch(settings, filterKeys(settings.topic, task('PractitionerRole/b')))).toBe(false);
    for (const [bad, why] of [
      ['Encounter?patient=Patient/p', /about Task/],
      ['subject=Patient/p', /filters by owner, patient/],
      ['owner:missing=true', /modifiers/],
      ['owner', /\[parameter\]=\[value\]/],
    ]) {
      expect(() => topicSettings(subscription([bad as string]))).toThrow(why);
    }
  });

  it('takes a date alone as due at the end of that day', () => {
    expect(new Date(dueAt('2026-12-07', true)).toISOString()).toBe('2026-12-08T00:00:00.000Z');
    expect(new Date(dueAt('2026-12-07', false)).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(new Date(dueAt('2026-12-07T10:00:00+01:00', true)).toISOString()).toBe('2026-12-07T09:00:00.000Z');
  });
});
