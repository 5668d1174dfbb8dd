// Unix-socket plumbing shared by the raw peers: a server that takes exactly one client, and a
// client connect. One connection per run keeps the measurement about the data path.
import net from 'node:net';
import { once } from 'node:events';
import type { PeerContext } from './peer-ipc.js';

export async function acceptOne(ctx: PeerContext<unknown>): Promise<net.Socket> {
  const server = net.createServer();
  server.listen(ctx.socketPath);
  await once(server, 'listening');
  ctx.ready();
  const [sock] = (await once(server, 'connection')) as [net.Socket];
  server.close(); // no second client; the accepted socket stays open
  return sock;
}

export async function connect(ctx: PeerContext<unknown>): Promise<net.Socket> {
  const sock = net.connect(ctx.socketPath);
  await once(sock, 'connect');
  return sock;
}

/** Writes and waits for 'drain' when the socket asks for it: the client never builds an
 *  unbounded user-space queue, so what is measured is the path, not Node's buffering. */
export async function writeRespectingBackpressure(sock: net.Socket, buf: Uint8Array): Promise<void> {
  if (!sock.write(buf)) await once(sock, 'drain');
}

export async function endAndWait(sock: net.Socket): Promise<void> {
  sock.end();
  if (!sock.closed) await once(sock, 'close');
}
