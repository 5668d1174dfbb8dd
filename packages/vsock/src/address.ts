/**
 * One address syntax for every transport:
 * `vsock://<cid>:<port>`, `hybrid://<absolute uds path>:<port>`, `unix://<path>`,
 * `tcp://<host>:<port>` (IPv6 as `tcp://[::1]:80`).
 * @packageDocumentation
 */
import { AddressError } from './errors.js';
import { VMADDR_CID_ANY, VMADDR_CID_HOST, VMADDR_CID_LOCAL, VMADDR_PORT_ANY, VSOCK_U32_MAX } from './constants.js';
import type { TransportAddress } from './types.js';

const CID_NAMES: Record<string, number> = { any: VMADDR_CID_ANY, host: VMADDR_CID_HOST, local: VMADDR_CID_LOCAL };

/** Decimal u32, or -1 meaning 0xFFFFFFFF. Undefined when not that. */
function parseU32(text: string): number | undefined {
  if (text === '-1') return VSOCK_U32_MAX;
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= VSOCK_U32_MAX ? n : undefined;
}

/** Splits `<left>:<port>` at the last colon. */
function splitPort(input: string, rest: string): [string, string] {
  const i = rest.lastIndexOf(':');
  if (i < 0) throw new AddressError(input, 'the port is missing (expected ":<port>" at the end)');
  return [rest.slice(0, i), rest.slice(i + 1)];
}

/**
 * Parses a transport address.
 * @throws AddressError when malformed; its message lists the accepted forms.
 * @example parseAddress('vsock://host:5000') // { transport: 'vsock', cid: 2, port: 5000 }
 */
export function parseAddress(text: string): TransportAddress {
  if (typeof text !== 'string') throw new AddressError(String(text), 'an address must be a string');
  const m = /^([a-z]+):\/\/(.*)$/s.exec(text);
  if (!m) throw new AddressError(text, 'it does not start with a scheme (vsock://, hybrid://, unix:// or tcp://)');
  const scheme = m[1]!;
  const rest = m[2]!;
  switch (scheme) {
    case 'vsock': {
      const [cidText, portText] = splitPort(text, rest);
      const cid = CID_NAMES[cidText.toLowerCase()] ?? parseU32(cidText);
      if (cid === undefined) {
        throw new AddressError(text, `the CID ${JSON.stringify(cidText)} is not a number in 0..4294967295, -1, any, host or local`);
      }
      const port = portText.toLowerCase() === 'any' ? VMADDR_PORT_ANY : parseU32(portText);
      if (port === undefined) {
        throw new AddressError(text, `the port ${JSON.stringify(portText)} is not a number in 0..4294967295, -1 or any`);
      }
      return { transport: 'vsock', cid, port };
    }
    case 'hybrid': {
      const [path, portText] = splitPort(text, rest);
      if (!path.startsWith('/')) throw new AddressError(text, 'the hybrid vsock socket path must be absolute');
      if (path.includes('\0')) throw new AddressError(text, 'the path contains a NUL byte');
      const port = /^\d{1,10}$/.test(portText) ? Number(portText) : undefined;
      if (port === undefined || port >= VSOCK_U32_MAX) {
        throw new AddressError(text, `the port ${JSON.stringify(portText)} is not a number in 0..4294967294 (hybrid needs a real port)`);
      }
      return { transport: 'hybrid', path, port };
    }
    case 'unix': {
      if (rest === '') throw new AddressError(text, 'the unix socket path is empty');
      if (rest.includes('\0')) throw new AddressError(text, 'the path contains a NUL byte');
      return { transport: 'unix', path: rest };
    }
    case 'tcp': {
      let host: string;
      let portText: string;
      if (rest.startsWith('[')) {
        const close = rest.indexOf(']');
        if (close < 0 || rest[close + 1] !== ':') throw new AddressError(text, 'an IPv6 host must be written [addr]:<port>');
        host = rest.slice(1, close);
        portText = rest.slice(close + 2);
        if (!host.includes(':')) throw new AddressError(text, 'brackets are only for IPv6 hosts');
      } else {
        [host, portText] = splitPort(text, rest);
        if (host.includes(':')) throw new AddressError(text, 'an IPv6 host must be in brackets: tcp://[::1]:80');
      }
      if (host === '') throw new AddressError(text, 'the host is empty');
      if (/[\s/\0]/.test(host)) throw new AddressError(text, `the host ${JSON.stringify(host)} contains a space, slash or NUL`);
      const port = /^\d{1,5}$/.test(portText) ? Number(portText) : undefined;
      if (port === undefined || port > 65535) {
        throw new AddressError(text, `the port ${JSON.stringify(portText)} is not a number in 0..65535`);
      }
      return { transport: 'tcp', host, port };
    }
    default:
      throw new AddressError(text, `unknown scheme "${scheme}://"`);
  }
}

function checkU32(a: object, v: unknown, what: string): number {
  if (typeof v === 'number' && v === -1) return VSOCK_U32_MAX;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > VSOCK_U32_MAX) {
    throw new AddressError(JSON.stringify(a), `${what} must be an integer in 0..4294967295 or -1`);
  }
  return v;
}

/**
 * Validates an address object (as from JSON or a caller), normalising -1 to 0xFFFFFFFF.
 * @throws AddressError when a field is missing or out of range.
 */
export function normalizeAddress(a: TransportAddress): TransportAddress {
  const bad = (why: string): never => {
    throw new AddressError(JSON.stringify(a), why);
  };
  if (typeof a !== 'object' || a === null) return bad('an address must be a string or an object');
  switch (a.transport) {
    case 'vsock':
      return { transport: 'vsock', cid: checkU32(a, a.cid, 'cid'), port: checkU32(a, a.port, 'port') };
    case 'hybrid': {
      if (typeof a.path !== 'string' || !a.path.startsWith('/') || a.path.includes('\0')) bad('path must be an absolute path');
      const port = checkU32(a, a.port, 'port');
      if (port === VMADDR_PORT_ANY) bad('hybrid needs a real port, not any');
      return { transport: 'hybrid', path: a.path, port };
    }
    case 'unix':
      if (typeof a.path !== 'string' || a.path === '' || a.path.includes('\0')) bad('path must be a non-empty string');
      return { transport: 'unix', path: a.path };
    case 'tcp':
      if (typeof a.host !== 'string' || a.host === '' || /[\s/\0]/.test(a.host)) bad('host must be a non-empty host name or IP');
      if (typeof a.port !== 'number' || !Number.isInteger(a.port) || a.port < 0 || a.port > 65535) bad('port must be an integer in 0..65535');
      return { transport: 'tcp', host: a.host, port: a.port };
    default:
      return bad(`unknown transport ${JSON.stringify((a as { transport?: unknown }).transport)}`);
  }
}

/**
 * Formats an address in the syntax {@link parseAddress} reads; `parseAddress(formatAddress(a))`
 * gives back `a`. CID and port 0xFFFFFFFF are written `any`.
 */
export function formatAddress(a: TransportAddress): string {
  const n = normalizeAddress(a);
  switch (n.transport) {
    case 'vsock':
      return `vsock://${n.cid === VMADDR_CID_ANY ? 'any' : n.cid}:${n.port === VMADDR_PORT_ANY ? 'any' : n.port}`;
    case 'hybrid':
      return `hybrid://${n.path}:${n.port}`;
    case 'unix':
      return `unix://${n.path}`;
    case 'tcp':
      return `tcp://${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`;
  }
}

/**
 * Accepts either form and returns a validated object: what every API that takes an address
 * (`dial`, `listen`, the engines) does once, at its edge.
 * @throws AddressError when malformed.
 */
export function toAddress(address: string | TransportAddress): TransportAddress {
  return typeof address === 'string' ? parseAddress(address) : normalizeAddress(address);
}
