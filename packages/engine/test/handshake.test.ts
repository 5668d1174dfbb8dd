/** HELLO: registry mismatch on both ends, protocol version, handshake timeout, what a HELLO carries. */
import { describe, expect, it } from 'vitest';
import { ControlType, Kind, PROTOCOL_VERSION, decodeHello } from '@vsock-rpc/wire';
import { ClientEngine, HelloMismatchError } from '../src/index.js';
import { compareHello } from '../src/handshake.js';
import {
  TRANSPORTS,
  changedRegistry,
  collectingLogger,
  connectClient,
  deferred,
  helloFrame,
  metricValue,
  promRegistry,
  rawConnect,
  rawServer,
  rejectionOf,
  startServer,
  testRegistry,
  track,
  urlOf,
  useCleanup,
  type RawPeer,
} from './helpers.js';

useCleanup();

describe.each(TRANSPORTS)('handshake over %s', (transport) => {
  it('a registry with one changed schema fails BOTH ends with HelloMismatchError naming the type', async () => {
    const prom = promRegistry();
    const logger = collectingLogger();
    const server = await startServer(transport, { promRegistry: prom, logger });
    const serverErr = deferred<Error>();
    server.on('peerError', (err: Error) => serverErr.resolve(err));
    let attempts = 0;
    const clientErr = await rejectionOf(
      (async () => {
        // reconnect stays on: a mismatch must still fail at once, never be retried.
        const c = ClientEngine.connect(urlOf(server), { registry: changedRegistry, logger: null, reconnect: { initialDelayMs: 10 } });
        c.then(
          (x) => track(x, (y) => y.close(100)),
          () => {},
        );
        attempts++;
        return c;
      })(),
    );
    expect(clientErr).toBeInstanceOf(HelloMismatchError);
    expect(clientErr.code).toBe('HELLO_MISMATCH');
    expect(clientErr.message).toContain("'note' (id 11) has a different schema");
    expect(clientErr.differences).toEqual(["'note' (id 11) has a different schema on the peer"]);
    const err = await serverErr.promise;
    expect(err).toBeInstanceOf(HelloMismatchError);
    expect((err as HelloMismatchError).differences).toEqual(["'note' (id 11) has a different schema on the peer"]);
    expect(attempts).toBe(1);
    expect(server.peers()).toHaveLength(0);
    expect(await metricValue(prom, 'vsockrpc_errors_total', { code: 'HELLO_MISMATCH' })).toBe(1);
    expect(logger.matching(/HELLO mismatch/)).toHaveLength(1);
    // The server is fine for a correct client.
    const ok = await connectClient(urlOf(server));
    expect(ok.connected).toBe(true);
  });

  it('a peer of another protocol version is refused with HELLO_MISMATCH naming the version', async () => {
    const server = await startServer(transport);
    const serverErr = deferred<Error>();
    server.on('peerError', (err: Error) => serverErr.resolve(err));
    const raw = await rawConnect(urlOf(server));
    raw.write(helloFrame(testRegistry, { version: PROTOCOL_VERSION + 1 }));
    expect(await raw.goaway()).toBe('HELLO_MISMATCH');
    const err = (await serverErr.promise) as HelloMismatchError;
    expect(err).toBeInstanceOf(HelloMismatchError);
    expect(err.differences).toEqual([`protocol version ${PROTOCOL_VERSION + 1} vs ours ${PROTOCOL_VERSION}`]);
    await raw.ended;
  });

  it('the server gives up on a peer that never sends HELLO (HANDSHAKE_TIMEOUT)', async () => {
    const server = await startServer(transport, { handshakeTimeoutMs: 300 });
    const serverErr = deferred<Error & { code: string }>();
    server.on('peerError', (err: Error & { code: string }) => serverErr.resolve(err));
    const raw = await rawConnect(urlOf(server));
    expect((await serverErr.promise).code).toBe('HANDSHAKE_TIMEOUT');
    // It had sent its own HELLO first, then GOAWAY.
    expect(await raw.goaway()).toBe('HANDSHAKE_TIMEOUT');
    expect(raw.frames[0]!.type).toBe(ControlType.HELLO);
    await raw.ended;
  });
});

describe('handshake against raw servers (unix)', () => {
  it('the client gives up on a server that never sends HELLO (HANDSHAKE_TIMEOUT)', async () => {
    const seen = deferred<RawPeer>();
    const url = await rawServer((peer) => seen.resolve(peer));
    const err = await rejectionOf(connectClient(url, { handshakeTimeoutMs: 300, reconnect: false }));
    expect(err.code).toBe('HANDSHAKE_TIMEOUT');
    const peer = await seen.promise;
    expect(await peer.goaway()).toBe('HANDSHAKE_TIMEOUT');
  });

  it("the client's HELLO is its first frame and carries version, fingerprint, name, limits and the type summary", async () => {
    const seen = deferred<RawPeer>();
    const url = await rawServer((peer) => seen.resolve(peer));
    const connecting = rejectionOf(connectClient(url, { handshakeTimeoutMs: 300, reconnect: false, name: 'guest-7', maxFrame: 1 << 20 }));
    const peer = await seen.promise;
    const first = await peer.frame(() => true, 'the first frame');
    expect(first.kind).toBe(Kind.CONTROL);
    expect(first.type).toBe(ControlType.HELLO);
    const hello = decodeHello(first.payload);
    expect(hello.version).toBe(PROTOCOL_VERSION);
    expect(hello.fingerprint).toBe(testRegistry.fingerprint);
    expect(hello.name).toBe('guest-7');
    expect(hello.maxFrame).toBe(1 << 20);
    expect(compareHello(hello, testRegistry)).toEqual([]);
    expect(hello.types).toContainEqual([11, 'note', 'm', testRegistry.summary.find((s) => s.id === 11)!.hash]);
    await connecting;
  });

  it('a server of another protocol version fails the client with HelloMismatchError', async () => {
    const url = await rawServer((peer) => peer.write(helloFrame(testRegistry, { version: PROTOCOL_VERSION + 1 })));
    const err = await rejectionOf(connectClient(url, { reconnect: { initialDelayMs: 10 } }));
    expect(err).toBeInstanceOf(HelloMismatchError);
    expect(err.message).toContain(`protocol version ${PROTOCOL_VERSION + 1}`);
  });

  it('compareHello lists types missing on either side and renamed ids', () => {
    const summary = testRegistry.summary.map((s) => [s.id, s.name, s.kind === 'message' ? 'm' : 'r', s.hash] as [number, string, string, string]);
    const base = { version: PROTOCOL_VERSION, fingerprint: 'x'.repeat(32), name: 'p', maxFrame: 1024, inlineLimit: 0 };
    const missing = summary.filter(([id]) => id !== 12);
    const renamed = summary.map((t) => (t[0] === 10 ? ([10, 'sequence', 'm', t[3]] as typeof t) : t));
    const extra = [...summary, [300, 'newer', 'm', '0'.repeat(16)] as (typeof summary)[number]];
    expect(compareHello({ ...base, types: missing }, testRegistry)).toEqual(["'blob' (id 12) is missing on the peer"]);
    expect(compareHello({ ...base, types: renamed }, testRegistry)).toEqual(["id 10 is 'seq' here but 'sequence' on the peer"]);
    expect(compareHello({ ...base, types: extra }, testRegistry)).toEqual(["'newer' (id 300) exists only on the peer"]);
  });
});
