// Peer implementations by name. Lazy imports so that a raw-socket peer does not pay for loading
// grpc-js. The vsock-rpc variants add their entries here.
import type { PeerModule } from './protocol.js';

const peers: Record<string, () => Promise<PeerModule>> = {
  'raw-oneway': () => import('./raw-oneway.js'),
  'naive-oneway': () => import('./naive-oneway.js'),
  'raw-bandwidth': () => import('./raw-bandwidth.js'),
  'raw-pingpong': () => import('./raw-pingpong.js'),
  'grpc-stream': () => import('./grpc-stream.js'),
  'grpc-unary': () => import('./grpc-unary.js'),
  'raw-memory': () => import('./raw-memory.js'),
  'vsock-rpc-oneway': () => import('./vsock-rpc-oneway.js'),
  'vsock-rpc-calls': () => import('./vsock-rpc-calls.js'),
  'vsock-rpc-memory': () => import('./vsock-rpc-memory.js'),
  clock: () => import('./clock-peer.js'),
};

export function peerNames(): string[] {
  return Object.keys(peers);
}

export async function loadPeer(name: string): Promise<PeerModule> {
  const load = peers[name];
  if (!load) throw new Error(`unknown peer implementation '${name}' (known: ${peerNames().join(', ')})`);
  return load();
}
