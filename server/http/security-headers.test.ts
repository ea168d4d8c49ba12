import { describe, expect, it } from 'vitest';
import { DATABASES, startTestServer, useServer } from '../../tests/harness.js';
import { OPERATOR } from '../../tests/smart.js';

/** The security headers (helmet): the API's, the authorization pages', the coordination app's. */
describe.each(DATABASES)('security headers on %s', (kind) => {
  const http = useServer(kind, { auth: true, ...OPERATOR });
  // The body is read so that the connection is released: an unread one holds the server's close.
  const headersOf = async (url: string) => {
    const response = await fetch(url, { redirect: 'manual' });
    await response.arrayBuffer();
    return response.headers;
  };

  it('every response: nosniff, no referrer, no framing, a policy allowing nothing; no HSTS on http', async () => {
    for (const path of ['/fhir/metadata', '/fhir/Patient', '/auth/jwks', '/fhir/.well-known/smart-configuration', '/healthz', '/nowhere']) {
      const h = await headersOf(`${http.server.url}${path}`);
      expect(h.get('x-content-type-options'), path).toBe('nosniff');
      expect(h.get('referrer-policy'), path).toBe('no-referrer');
      expect(h.get('x-frame-options'), path).toBe('DENY');
      expect(h.get('content-security-policy'), path).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none'");
      expect(h.get('strict-transport-security'), path).toBeNull();
    }
  });

  it('the authorization pages: their inline style only, never framed', async () => {
    const h = await headersOf(`${http.server.url}/auth/login`);
    expect(h.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
    expect(h.get('x-frame-options')).toBe('DENY');
    expect(h.get('x-content-type-options')).toBe('nosniff');
  });

  it('the coordination app: its own origin only, and it may be framed by practice software', async () => {
    const h = await headersOf(`${http.server.url}/app/`);
    const csp = h.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('frame-ancestors');
    expect(h.get('x-frame-options')).toBeNull();
    expect(h.get('x-content-type-options')).toBe('nosniff');
    expect(h.get('referrer-policy')).toBe('no-referrer');
  });

  it('HSTS where the public origin is https', async () => {
    const https = await startTestServer(kind, { auth: true, ...OPERATOR, origin: 'https://maillage.example' });
    try {
      expect((await headersOf(`${https.url}/fhir/metadata`)).get('strict-transport-security')).toBe('max-age=31536000');
      expect((await headersOf(`${https.url}/app/`)).get('strict-transport-security')).toBe('max-age=31536000');
    } finally {
      await https.stop();
    }
  });
});
