/**
 * Memory after a storm of bad connections (issue 11, item 7): once they are gone, the server
 * holds none of them, neither in its slot table nor anywhere a garbage collection cannot reach.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { ControlType, Kind, encodeErrorPayload, encodeFrame, pack } from '@vsock-rpc/wire';
import { Connection } from '../src/connection.js';
import { helloFrame, rawConnect, startServer, urlOf, useCleanup, waitFor } from './helpers.js';

useCleanup();

// A real collection, with or without --expose-gc: the flag can be set at run time, and a new
// context then sees `gc`. Asserting "collected" needs one; without it the test would prove nothing.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('rejected connections are released (unix)', () => {
  it('after 300 bad connections the server retains no Connection', async () => {
    expect(typeof gc).toBe('function');
    const server = await startServer('unix', { maxConnections: 1000 });
    // Every Connection the server makes registers its 'eventError' listener first: catch them there.
    const refs: WeakRef<Connection>[] = [];
    const on = Connection.prototype.on;
    Connection.prototype.on = function (this: Connection, ...args: Parameters<typeof on>) {
      if (args[0] === 'eventError') refs.push(new WeakRef(this));
      return on.apply(this, args);
    } as typeof on;
    let failed = 0;
    server.on('peerError', () => void failed++);
    const bad = [
      encodeFrame(Kind.EVENT, 10, 0, pack({ n: 1 })), // a frame before HELLO: PROTOCOL_ERROR
      encodeFrame(Kind.CONTROL, ControlType.HELLO, 0, Buffer.from([0xc1])), // an undecodable HELLO
      encodeFrame(Kind.CONTROL, ControlType.GOAWAY, 0, encodeErrorPayload({ code: 'NOPE', message: 'bye' })), // GOAWAY in place of HELLO
      Buffer.from('GET / HTTP/1.1\r\n\r\n'), // not vsock-rpc at all
    ];
    const n = 300;
    try {
      for (let i = 0; i < n; i += 50) {
        const peers = await Promise.all(Array.from({ length: 50 }, () => rawConnect(urlOf(server))));
        peers.forEach((p, k) => p.write(bad[(i + k) % bad.length]!));
        await Promise.all(
          peers.map((p) =>
            p.ended
              .then(
                () => undefined,
                () => undefined,
              )
              .then(() => p.socket.destroy()),
          ),
        );
      }
      // One good peer among them that then leaves: its Connection must go too.
      const good = await rawConnect(urlOf(server));
      good.write(helloFrame());
      await waitFor(() => server.peers().length === 1, 'the good peer');
      good.socket.destroy();
    } finally {
      delete (Connection.prototype as { on?: unknown }).on; // back to EventEmitter's
    }
    expect(Connection.prototype.on).toBe(on);
    expect(refs).toHaveLength(n + 1);
    await waitFor(() => failed === n && server.stats().slots === 0 && server.peers().length === 0, 'every connection to be closed');
    expect(server.stats()).toMatchObject({ connections: 0, slots: 0, rejected: 0 });
    await waitFor(() => {
      gc();
      return refs.every((r) => r.deref() === undefined);
    }, 'every Connection to be collected');
  });
});
