import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a rest-hook may be sent: https, or http on the loopback only (a receiver on the same
 * machine); never to a link-local address (169.254.0.0/16, fe80::/10), where cloud metadata
 * services answer. Checked when the Subscription is written (the URL) and again before each
 * delivery (every address the name resolves to: a name may point elsewhere later).
 */
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
// AWS's metadata service over IPv6.
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data']);

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');
const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/** Why the URL may not receive rest-hooks (undefined: it may), judged on its text. */
export function endpointRefusal(endpoint: string | undefined): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint ?? '');
  } catch {
    return 'channel.endpoint must be an absolute URL';
  }
  const host = hostOf(url);
  if (METADATA_NAMES.has(host.toLowerCase())) return `channel.endpoint may not name ${host}`;
  if (isIP(host) && LINK_LOCAL.check(host, family(host))) return `channel.endpoint may not be a link-local address (${host})`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && (host === 'localhost' || (isIP(host) && LOOPBACK.check(host, family(host))))) return undefined;
  return 'channel.endpoint must be https (http only on the loopback)';
}

/** The same, on every address the endpoint's name resolves to now. */
export async function resolvedRefusal(endpoint: string): Promise<string | undefined> {
  const refused = endpointRefusal(endpoint);
  if (refused) return refused;
  const url = new URL(endpoint);
  const host = hostOf(url);
  const addresses = isIP(host) ? [{ address: host }] : await lookup(host, { all: true });
  for (const { address } of addresses) {
    if (LINK_LOCAL.check(address, family(address))) return `channel.endpoint resolves to a link-local address (${address})`;
    if (url.protocol === 'http:' && !LOOPBACK.check(address, family(address))) return `http channel.endpoint resolves off the loopback (${address})`;
  }
  return undefined;
}
