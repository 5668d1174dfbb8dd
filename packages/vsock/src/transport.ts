/**
 * dial() and listen(): one entry point for the four transports, addressed by
 * `vsock://`, `hybrid://`, `unix://` or `tcp://` text (or a TransportAddress object).
 * Every transport gives the same events and the same `peer` on its sockets.
 */
import net from 'node:net';
import { formatAddress, toAddress } from './address.js';
import { VsockAbortError, VsockTimeoutError } from './errors.js';
import { toVsockError } from './guidance.js';
import { dialHybrid, listenHybrid } from './hybrid.js';
import { NetTransportServer, VsockTransportServer, clearStaleUnixSocket, listenNet, withPeer } from './net-server.js';
import type { DialOptions, ListenOptions, PeerInfo, TransportAddress, TransportServer, TransportSocket } from './types.js';
import { connectVsock } from './vsock-connect.js';
import { VsockServer } from './vsock-server.js';

/** The highWaterMark option, only when given (exactOptionalPropertyTypes-friendly). */
function hwm(options: { highWaterMark?: number }): { highWaterMark?: number } {
  return options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark };
}

/** Connects a node:net socket (unix or tcp) with timeout and abort, rejecting with typed errors. */
function dialNet(
  connectOpts: net.NetConnectOpts,
  address: string,
  transport: 'unix' | 'tcp',
  options: DialOptions,
  peerOf: (s: net.Socket) => PeerInfo,
): Promise<TransportSocket> {
  const { timeoutMs, signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new VsockAbortError(`connect ${address} aborted before it started`, { cause: signal.reason, address }));
      return;
    }
    const socket = net.connect({ ...connectOpts, allowHalfOpen: options.allowHalfOpen ?? false, ...hwm(options) });
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('connect', onConnect);
    };
    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    function onError(err: Error): void {
      fail(toVsockError(err, { op: 'connect', address, transport }));
    }
    function onAbort(): void {
      fail(new VsockAbortError(`connect ${address} aborted`, { cause: signal?.reason, address }));
    }
    function onConnect(): void {
      cleanup();
      resolve(withPeer(socket, peerOf(socket)) as unknown as TransportSocket);
    }
    socket.once('error', onError);
    socket.once('connect', onConnect);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () =>
          fail(
            new VsockTimeoutError(
              'ETIMEDOUT',
              `connect ${address} failed (ETIMEDOUT): no answer within ${timeoutMs} ms. Check that the peer is up and accepting.`,
              {
                syscall: 'connect',
                address,
              },
            ),
          ),
        timeoutMs,
      );
    }
  });
}

function tcpPeer(s: net.Socket, fallback: { host: string; port: number }): PeerInfo {
  const host = s.remoteAddress ?? fallback.host;
  const port = s.remotePort ?? fallback.port;
  return { transport: 'tcp', address: { transport: 'tcp', host, port }, port };
}

/**
 * Connects to `address` over its transport.
 * @param address `vsock://<cid>:<port>`, `hybrid://<uds path>:<port>`, `unix://<path>`,
 *   `tcp://<host>:<port>`, or the parsed object
 * @returns a connected Duplex with `peer`
 * @throws (rejects) AddressError, VsockConnectionRefusedError (no listener), VsockTimeoutError,
 *   HybridHandshakeError, VsockUnsupportedError, VsockAbortError
 */
export async function dial(address: string | TransportAddress, options: DialOptions = {}): Promise<TransportSocket> {
  const a = toAddress(address);
  const text = formatAddress(a);
  switch (a.transport) {
    case 'vsock':
      return (await connectVsock({ cid: a.cid, port: a.port, ...options })) as unknown as TransportSocket;
    case 'hybrid':
      return (await dialHybrid(a.path, a.port, options)) as unknown as TransportSocket;
    case 'unix':
      return dialNet({ path: a.path }, text, 'unix', options, () => ({ transport: 'unix', address: { transport: 'unix', path: a.path } }));
    case 'tcp':
      return dialNet({ host: a.host, port: a.port }, text, 'tcp', options, (s) => tcpPeer(s, a));
  }
}

/**
 * Listens on `address`. Resolves once listening; `server.address` holds the bound address
 * (with the real port when 0 / any was asked).
 * - vsock: binds the CID (`any` for all) and port (`any` for a kernel-chosen one)
 * - hybrid: listens for guest-initiated connections at `<path>_<port>`
 * - unix: replaces a stale socket file only if nothing answers on it
 * - tcp: as node:net
 * @throws (rejects) AddressError, VsockAddressInUseError, VsockAddressNotAvailableError
 *   (the message lists the CIDs bindable here), VsockUnsupportedError
 */
export async function listen(address: string | TransportAddress, options: ListenOptions = {}): Promise<TransportServer> {
  const a = toAddress(address);
  const text = formatAddress(a);
  const backlog = options.backlog === undefined ? {} : { backlog: options.backlog };
  const allowHalfOpen = options.allowHalfOpen ?? false;
  switch (a.transport) {
    case 'vsock': {
      const server = new VsockServer({
        allowHalfOpen,
        ...(options.bufferSize === undefined ? {} : { bufferSize: options.bufferSize }),
        ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: a.port, cid: a.cid, ...backlog }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return new VsockTransportServer(server);
    }
    case 'hybrid':
      return listenHybrid(a.path, a.port, options);
    case 'unix': {
      await clearStaleUnixSocket(a.path, text);
      const server = net.createServer({ allowHalfOpen, ...hwm(options) });
      await listenNet(server, { path: a.path, ...backlog }, { address: text, transport: 'unix' });
      return new NetTransportServer(server, a, () => ({ transport: 'unix', address: { transport: 'unix', path: a.path } }));
    }
    case 'tcp': {
      const server = net.createServer({ allowHalfOpen, ...hwm(options) });
      await listenNet(server, { host: a.host, port: a.port, ...backlog }, { address: text, transport: 'tcp' });
      const bound = server.address() as net.AddressInfo;
      return new NetTransportServer(server, { transport: 'tcp', host: bound.address, port: bound.port }, (s) => tcpPeer(s, a));
    }
  }
}
