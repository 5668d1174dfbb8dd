/**
 * Hybrid vsock: the host side of Firecracker's and Cloud Hypervisor's vsock device,
 * which muxes guest AF_VSOCK ports onto host unix sockets.
 * - Host → guest: connect the unix socket at `<uds_path>`, send `CONNECT <port>\n`,
 *   read `OK <hostport>\n`; then the stream is the guest connection.
 * - Guest → host: the guest's connect to CID 2 port P arrives on a unix socket the host
 *   listens on at `<uds_path>_<P>`.
 */
import net from 'node:net';
import { formatAddress } from './address.js';
import { HybridHandshakeError, VsockAbortError, VsockError, type HybridHandshakeFailure } from './errors.js';
import { toVsockError } from './guidance.js';
import { NetTransportServer, clearStaleUnixSocket, listenNet, withPeer } from './net-server.js';
import type { DialOptions, ListenOptions, PeerInfo, TransportServer } from './types.js';

/** Longest answer line we wait for: `OK 4294967295\n` is 14 bytes; muxer error lines are short too. */
const MAX_REPLY_BYTES = 256;

/** A connected hybrid vsock stream (host side). */
export type HybridSocket = net.Socket & {
  readonly peer: PeerInfo;
  /** The port the muxer assigned to our end (the number after `OK`). */
  readonly hostPort: number;
};

/** The unix socket path where guest connections to `port` arrive: `<udsPath>_<port>`. */
export function hybridListenPath(udsPath: string, port: number): string {
  return `${udsPath}_${port}`;
}

function show(bytes: Buffer): string {
  return JSON.stringify(bytes.toString('latin1'));
}

/**
 * Opens a host-initiated connection to guest `port` through the muxer socket at `udsPath`.
 * Bytes the guest sends right behind the `OK` line are kept for the caller.
 * @throws (rejects) HybridHandshakeError when the muxer refuses, closes, answers something
 *   else or stays silent past `timeoutMs`; VsockConnectionRefusedError when nothing listens
 *   on `udsPath`; VsockAbortError.
 */
export function dialHybrid(udsPath: string, port: number, options: DialOptions = {}): Promise<HybridSocket> {
  const address = formatAddress({ transport: 'hybrid', path: udsPath, port });
  const { timeoutMs, signal } = options;
  return new Promise<HybridSocket>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new VsockAbortError(`connect ${address} aborted before it started`, { cause: signal.reason, address }));
      return;
    }
    const socket = net.connect({
      path: udsPath,
      allowHalfOpen: options.allowHalfOpen ?? false,
      ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
    });
    let received = Buffer.alloc(0);
    let connected = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const cleanup = (): void => {
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('readable', onReadable);
      socket.off('error', onError);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('connect', onConnect);
    };
    const fail = (err: VsockError): void => {
      if (settled) return;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const handshakeError = (reason: HybridHandshakeFailure, what: string): HybridHandshakeError =>
      new HybridHandshakeError(reason, received.toString('latin1'), `hybrid vsock handshake with ${address} failed: ${what}`, { address });

    function onConnect(): void {
      connected = true;
      // Firecracker reads exactly one line; nothing else may precede it.
      socket.write(`CONNECT ${port}\n`);
    }
    function onReadable(): void {
      let chunk: Buffer | null;
      while (!settled && (chunk = socket.read() as Buffer | null) !== null) {
        received = Buffer.concat([received, chunk]);
        const nl = received.indexOf(0x0a);
        if (nl < 0) {
          if (received.length > MAX_REPLY_BYTES) {
            fail(handshakeError('malformed', `expected "OK <port>\\n", got ${MAX_REPLY_BYTES}+ bytes without a newline: ${show(received.subarray(0, 64))}…`));
          }
          continue;
        }
        const line = received.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        const rest = received.subarray(nl + 1);
        const ok = /^OK (\d{1,10})$/.exec(line);
        if (!ok) {
          received = received.subarray(0, nl + 1);
          const reason: HybridHandshakeFailure = /^OK\b/.test(line) ? 'malformed' : 'refused';
          fail(handshakeError(reason, `expected "OK <port>", the muxer answered ${JSON.stringify(line)}`));
          return;
        }
        cleanup();
        // Bytes the guest sent right after the OK line belong to the caller's stream.
        if (rest.length > 0) socket.unshift(rest);
        const peer: PeerInfo = { transport: 'hybrid', address: { transport: 'hybrid', path: udsPath, port }, port };
        const s = withPeer(socket, peer);
        Object.defineProperty(s, 'hostPort', { value: Number(ok[1]), enumerable: true });
        resolve(s as HybridSocket);
        return;
      }
    }
    function onEnd(): void {
      fail(
        handshakeError(
          'closed',
          received.length === 0
            ? `the muxer closed the connection without answering CONNECT ${port}: no guest program listens on vsock port ${port} (or the guest is not up)`
            : `the muxer closed the connection after ${show(received)}, before a full "OK <port>" line`,
        ),
      );
    }
    function onError(err: Error): void {
      if (!connected) fail(toVsockError(err, { op: 'connect', address, transport: 'hybrid' }));
      else fail(handshakeError('closed', `the connection failed during the handshake (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    }
    function onAbort(): void {
      fail(new VsockAbortError(`connect ${address} aborted`, { cause: signal?.reason, address }));
    }

    socket.on('connect', onConnect);
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        fail(
          handshakeError(
            'timeout',
            connected
              ? `no "OK <port>" line within ${timeoutMs} ms (received ${show(received)})`
              : `could not connect to the muxer socket within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
    }
  });
}

/**
 * Listens for guest-initiated connections to host port `port` (the guest dials CID 2, `port`):
 * a unix listener at `<udsPath>_<port>`. A stale socket file there is replaced.
 */
export async function listenHybrid(udsPath: string, port: number, options: ListenOptions = {}): Promise<TransportServer> {
  const address = formatAddress({ transport: 'hybrid', path: udsPath, port });
  const path = hybridListenPath(udsPath, port);
  await clearStaleUnixSocket(path, address);
  const server = net.createServer({
    allowHalfOpen: options.allowHalfOpen ?? false,
    ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
  });
  await listenNet(server, { path, ...(options.backlog === undefined ? {} : { backlog: options.backlog }) }, { address, transport: 'hybrid' });
  return new NetTransportServer(server, { transport: 'hybrid', path: udsPath, port }, () => ({
    transport: 'hybrid',
    address: { transport: 'hybrid', path: udsPath, port },
  }));
}
