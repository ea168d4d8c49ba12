import type { Transporter } from 'nodemailer';

/**
 * An email notification for a secure relay (MSSanté style), for either kind of Subscription: it
 * names the event and links to the record, and carries no clinical content (nor the subscription's
 * reason, where its author may have named the patient): whoever reads it follows the link and
 * signs in.
 */
export interface Mail {
  transport: Transporter;
  from: string;
}

export interface MailedEvent {
  /** The event's number: the queue's for an R4 Subscription, eventsSinceSubscriptionStart for a topic-based one. */
  number: number;
  type: string;
  id: string;
  interaction: string;
  /** The topic's title, for a topic-based Subscription. */
  topic?: string;
}

const DONE: Record<string, string> = { create: 'créé', update: 'modifié', patch: 'modifié', delete: 'supprimé' };

export async function sendEventEmail(mail: Mail | undefined, fhirBase: string, subscription: string, endpoint: string, event: MailedEvent): Promise<void> {
  if (!mail) throw new Error('no SMTP relay is configured (SMTP_URL)');
  const what = `${event.type} ${DONE[event.interaction] ?? event.interaction}`;
  await mail.transport.sendMail({
    from: mail.from,
    to: endpoint.slice('mailto:'.length),
    subject: `Maillage : ${event.topic ?? what}`,
    text: [
      `Un évènement de votre abonnement ${subscription} : ${event.topic ? `${event.topic}, ` : ''}${what} (évènement n° ${event.number}).`,
      `Consulter : ${fhirBase}/${event.type}/${event.id}`,
      '',
      "Ce message ne contient aucune donnée de santé : l'accès au dossier demande votre authentification.",
    ].join('\n'),
    headers: { 'X-Maillage-Subscription': subscription, 'X-Maillage-Event': String(event.number) },
  });
}
