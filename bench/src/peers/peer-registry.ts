// Peer implementations by name (the `impl` of a run; the wire registry of the vsock-rpc peers
// is wire-registry.ts). Key `x` is peers/x-peer.ts, and the variant that runs it is
// baselines/x.ts or vsock-rpc/x.ts (the clock workload's: vsock-rpc/clock-variants.ts).
// Lazy imports so that a raw-socket peer does not pay for loading grpc-js.
import type { PeerModule } from './peer-ipc.js';

const peers: Record<string, () => Promise<PeerModule>> = {
  'raw-oneway': () => import('./raw-oneway-peer.js'),
  'naive-pipeline': () => import('./naive-pipeline-peer.js'),
  'raw-bandwidth': () => import('./raw-bandwidth-peer.js'),
  'raw-pingpong': () => import('./raw-pingpong-peer.js'),
  'grpc-stream': () => import('./grpc-stream-peer.js'),
  'grpc-unary': () => import('./grpc-unary-peer.js'),
  'grpc-server-stream': () => import('./grpc-server-stream-peer.js'),
  'raw-memory': () => import('./raw-memory-peer.js'),
  'vsock-rpc-oneway': () => import('./vsock-rpc-oneway-peer.js'),
  'vsock-rpc-calls': () => import('./vsock-rpc-calls-peer.js'),
  'vsock-rpc-memory': () => import('./vsock-rpc-memory-peer.js'),
  'vsock-rpc-stream': () => import('./vsock-rpc-stream-peer.js'),
  'vsock-rpc-stream-memory': () => import('./vsock-rpc-stream-memory-peer.js'),
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
