import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../server/config.js';

export interface Mail {
  to: string[];
  /** The message as received; `text` the same with quoted-printable soft line breaks joined. */
  raw: string;
  text: string;
}

/**
 * A real SMTP server for the tests of one describe block. Call it before useServer with the same
 * `overrides`: once it listens, their smtpUrl names it. `mails` fills as messages arrive.
 */
export function useSmtp(overrides: Partial<Config>) {
  const mails: Mail[] = [];
  let smtp: SMTPServer | undefined;
  beforeAll(async () => {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, text: raw.replace(/=\r?\n/g, '') });
          callback();
        });
      },
    });
    smtp = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    overrides.smtpUrl = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve())));
  return {
    mails,
    /** Waits until a mail arrived, or `ms` passed (the test's assertions then say what is missing). */
    async first(ms = 8000): Promise<void> {
      const start = Date.now();
      while (!mails.length && Date.now() - start < ms) await new Promise((r) => setTimeout(r, 25));
    },
  };
}
