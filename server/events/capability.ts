import type { TypeDescription } from '../interactions/capabilities.js';
import { CHANNELS } from './subscription-rules.js';
import { TOPICS } from './topics.js';
import { WS_PATH } from './websocket.js';

/** The channels a Subscription may use (events/subscription-rules.ts), one extension each, and where websockets bind. */
export const subscriptionChannels: TypeDescription = (origin) => {
  const ws = new URL(WS_PATH, origin);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    extension: [
      ...CHANNELS.map((code) => ({
        url: 'https://fhir.maillage.fr/StructureDefinition/subscription-channel',
        valueCoding: { system: 'http://hl7.org/fhir/subscription-channel-type', code },
      })),
      // The topics a topic-based Subscription (R4 Backport IG) may name as its criteria.
      ...TOPICS.map((t) => ({
        url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical',
        valueCanonical: t.url,
      })),
    ],
    documentation: [
      `Channels: ${CHANNELS.join(', ')}. Websockets bind at ${ws} (bind [id] without authorization; bind-with-token after $get-ws-binding-token).`,
      `Topic-based subscriptions (R4 Backport IG 1.1: criteria = a topic, filters in backport-filter-criteria; rest-hook or websocket; the topics as Basic resources at SubscriptionTopic): ${TOPICS.map(
        (t) => `${t.url} — ${t.title} (${t.resource}; filters: ${Object.keys(t.filters).join(', ')})`,
      ).join('; ')}.`,
    ].join(' '),
  };
};
