import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

/**
 * Provider endpoints are chosen by organisations: without a guard, an endpoint such as
 * http://169.254.169.254/ or http://10.0.0.5:8080/ makes the server call its own network (SSRF),
 * and the connection test tells the caller what answered. Every connection to a provider goes
 * through this guard: the address is checked after DNS resolution, at connect time (a name that
 * resolves to a private address is refused too, and so is DNS rebinding), and redirects are not
 * followed. Operators allow their own private ranges (a self-hosted vLLM) with
 * SAVOIR_PROVIDER_PRIVATE_ENDPOINTS.
 */
export class EndpointRefusedError extends Error {
  override name = 'EndpointRefusedError';
  readonly code = 'ESAVOIR_ENDPOINT_REFUSED';
}

/** Addresses no organisation-configured endpoint may reach unless the operator allows them. */
const forbidden = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  forbidden.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64 (embeds an IPv4 address)
  ['2002::', 16], // 6to4 (embeds an IPv4 address)
  ['::ffff:0:0:0', 96], // IPv4-translated (embeds an IPv4 address)
] as const) {
  forbidden.addSubnet(network, prefix, 'ipv6');
}

/** CIDR ranges (`10.0.0.0/8`, `fd00::/8`, or a single address) as a block list. */
export function allowListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of cidrs) {
    const [network, prefixText] = entry.trim().split('/');
    const family = isIP(network ?? '');
    if (!network || family === 0) throw new Error(`not an IP address or CIDR range: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const prefix = prefixText === undefined ? (family === 4 ? 32 : 128) : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new Error(`not a CIDR range: ${entry}`);
    list.addSubnet(network, prefix, type);
  }
  return list;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase().split('%')[0] as string;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = (dotted[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -(dotted[1] as string).length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  if (!groups || groups.slice(0, 5).some((g) => g !== 0) || (groups[5] !== 0xffff && groups[5] !== 0)) return undefined;
  if (groups[5] === 0 && groups[6] === 0) return undefined; // ::, ::1 stay IPv6
  const [high, low] = [groups[6] as number, groups[7] as number];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Whether a provider call may connect to `address` (an IP literal). */
export function isAllowedAddress(address: string, allowed: BlockList): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const v4 = isIP(bare) === 6 ? embeddedIpv4(bare) : undefined;
  const [ip, type] = v4 ? [v4, 'ipv4' as const] : [bare, isIP(bare) === 4 ? ('ipv4' as const) : ('ipv6' as const)];
  if (isIP(ip) === 0) return false;
  if (allowed.check(ip, type)) return true;
  return !forbidden.check(ip, type);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A DNS lookup that refuses names resolving to any forbidden address (all answers checked: no rebinding through a mixed answer). */
function guardedLookup(allowed: BlockList) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.find((a) => !isAllowedAddress(a.address, allowed));
      if (refused || addresses.length === 0) return callback(new EndpointRefusedError(`${hostname} resolves to an address provider calls may not reach`), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

export type GuardedFetch = (url: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A fetch for provider SDKs: connects only to allowed addresses (checked on the resolved address,
 * at connect time), never follows a redirect (a public endpoint cannot bounce the call inward).
 */
export function guardedFetch(privateEndpointCidrs: readonly string[]): GuardedFetch {
  const allowed = allowListOf(privateEndpointCidrs);
  const connector = buildConnector({ lookup: guardedLookup(allowed) as never });
  const agent = new Agent({
    connect: (options, callback) => {
      // An IP literal is not looked up by the socket: check it here.
      const host = options.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) !== 0 && !isAllowedAddress(host, allowed)) {
        callback(new EndpointRefusedError(`${host} is an address provider calls may not reach`), null);
        return;
      }
      connector(options, callback);
    },
  });
  return (url, init) => undiciFetch(url as never, { ...(init as object), dispatcher: agent, redirect: 'error' } as never) as unknown as Promise<Response>;
}
