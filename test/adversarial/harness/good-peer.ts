/**
 * A fresh good peer from 127.0.0.1: TCP connect, the server's HELLO, ours, then PING/PONG
 * (proof our HELLO was accepted). The time from connect() to PONG is "connects at once".
 */
import { RawPeer } from '../lib/peer.js';

let nonce = 1;

/** Handshake time in ms, or an Error saying what went wrong. */
export async function goodPeerConnectMs(port: number, timeoutMs = 10_000): Promise<number | Error> {
  let peer: RawPeer | undefined;
  try {
    peer = await RawPeer.connect(port, '127.0.0.1', timeoutMs);
    await peer.handshake('good-peer', timeoutMs);
    const n = nonce++;
    if (!(await peer.ping(n, timeoutMs))) return new Error(`no PONG (goaway ${peer.goaway?.code ?? '-'}, closed ${peer.closed})`);
    return performance.now() - peer.t0;
  } catch (e) {
    return e as Error;
  } finally {
    peer?.destroy();
  }
}
