import { describe, expect, it } from 'vitest';
import { AddressError, VMADDR_CID_ANY, VMADDR_PORT_ANY, formatAddress, parseAddress, type TransportAddress } from '../src/index.js';

describe('parseAddress / formatAddress', () => {
  const cases: Array<[string, TransportAddress, string?]> = [
    ['vsock://3:5000', { transport: 'vsock', cid: 3, port: 5000 }],
    ['vsock://any:11451', { transport: 'vsock', cid: VMADDR_CID_ANY, port: 11451 }],
    ['vsock://-1:11451', { transport: 'vsock', cid: VMADDR_CID_ANY, port: 11451 }, 'vsock://any:11451'],
    ['vsock://4294967295:1', { transport: 'vsock', cid: VMADDR_CID_ANY, port: 1 }, 'vsock://any:1'],
    ['vsock://host:22', { transport: 'vsock', cid: 2, port: 22 }, 'vsock://2:22'],
    ['vsock://HOST:22', { transport: 'vsock', cid: 2, port: 22 }, 'vsock://2:22'],
    ['vsock://local:0', { transport: 'vsock', cid: 1, port: 0 }, 'vsock://1:0'],
    ['vsock://1:any', { transport: 'vsock', cid: 1, port: VMADDR_PORT_ANY }],
    ['vsock://1:-1', { transport: 'vsock', cid: 1, port: VMADDR_PORT_ANY }, 'vsock://1:any'],
    ['hybrid:///run/fc/v.sock:52', { transport: 'hybrid', path: '/run/fc/v.sock', port: 52 }],
    ['hybrid:///tmp/a:b/v.sock:1', { transport: 'hybrid', path: '/tmp/a:b/v.sock', port: 1 }],
    ['unix:///tmp/x.sock', { transport: 'unix', path: '/tmp/x.sock' }],
    ['unix://relative/x.sock', { transport: 'unix', path: 'relative/x.sock' }],
    ['tcp://127.0.0.1:80', { transport: 'tcp', host: '127.0.0.1', port: 80 }],
    ['tcp://localhost:0', { transport: 'tcp', host: 'localhost', port: 0 }],
    ['tcp://[::1]:65535', { transport: 'tcp', host: '::1', port: 65535 }],
    ['tcp://[fe80::1%eth0]:8080', { transport: 'tcp', host: 'fe80::1%eth0', port: 8080 }],
  ];
  for (const [text, parsed, canonical] of cases) {
    it(`round-trips ${text}`, () => {
      expect(parseAddress(text)).toEqual(parsed);
      expect(formatAddress(parsed)).toBe(canonical ?? text);
      expect(parseAddress(formatAddress(parsed))).toEqual(parsed);
    });
  }

  const malformed: Array<[string, RegExp]> = [
    ['', /scheme/],
    ['3:5000', /scheme/],
    ['vsock:3:5000', /scheme/],
    ['udp://1.2.3.4:5', /unknown scheme/],
    ['VSOCK://3:5', /scheme/],
    ['vsock://3', /port is missing/],
    ['vsock://:5', /CID/],
    ['vsock://abc:5', /CID/],
    ['vsock://-2:5', /CID/],
    ['vsock://3.5:5', /CID/],
    ['vsock://4294967296:5', /CID/],
    ['vsock://3:', /port/],
    ['vsock://3:x', /port/],
    ['vsock://3:4294967296', /port/],
    ['vsock://3:+5', /port/],
    ['hybrid://relative/v.sock:5', /absolute/],
    ['hybrid:///v.sock', /port/],
    ['hybrid:///v.sock:any', /port/],
    ['hybrid:///v.sock:-1', /port/],
    ['unix://', /empty/],
    ['unix://a\0b', /NUL/],
    ['tcp://:80', /host is empty/],
    ['tcp://localhost', /port/],
    ['tcp://localhost:65536', /port/],
    ['tcp://localhost:-1', /port/],
    ['tcp://::1:80', /brackets/],
    ['tcp://[::1]80', /\[addr\]/],
    ['tcp://[::1:80', /\[addr\]/],
    ['tcp://[localhost]:80', /IPv6/],
    ['tcp://a b:80', /space/],
    ['tcp://a/b:80', /slash/],
  ];
  for (const [text, why] of malformed) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      let caught: unknown;
      try {
        parseAddress(text);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(AddressError);
      const err = caught as AddressError;
      expect(err.code).toBe('ERR_VSOCK_ADDRESS');
      expect(err.input).toBe(text);
      expect(err.message).toMatch(why);
      // Every message lists the accepted forms.
      for (const form of ['vsock://<cid>:<port>', 'hybrid://', 'unix://<path>', 'tcp://<host>:<port>', 'tcp://[::1]:80']) {
        expect(err.message).toContain(form);
      }
    });
  }

  it('rejects malformed objects in formatAddress', () => {
    expect(() => formatAddress({ transport: 'vsock', cid: 1.5, port: 1 })).toThrow(AddressError);
    expect(() => formatAddress({ transport: 'vsock', cid: 2 ** 32, port: 1 })).toThrow(AddressError);
    expect(() => formatAddress({ transport: 'tcp', host: 'h', port: 70000 })).toThrow(AddressError);
    expect(() => formatAddress({ transport: 'hybrid', path: 'rel', port: 1 })).toThrow(AddressError);
    expect(() => formatAddress({ transport: 'hybrid', path: '/a', port: VMADDR_PORT_ANY })).toThrow(/real port/);
    expect(() => formatAddress({ transport: 'unix', path: '' })).toThrow(AddressError);
    expect(() => formatAddress({ transport: 'nope' } as unknown as TransportAddress)).toThrow(/unknown transport/);
    expect(() => parseAddress(42 as unknown as string)).toThrow(AddressError);
  });

  it('formats -1 as any', () => {
    expect(formatAddress({ transport: 'vsock', cid: -1, port: -1 })).toBe('vsock://any:any');
  });
});
