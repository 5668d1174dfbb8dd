/**
 * @vsock-rpc/vsock — AF_VSOCK for Node (a small N-API addon plus a node:net-shaped API),
 * hybrid vsock (Firecracker / Cloud Hypervisor unix-socket muxer), one address syntax,
 * and one dial()/listen() for vsock, hybrid, unix and tcp.
 * @packageDocumentation
 */
export { VMADDR_CID_ANY, VMADDR_CID_HYPERVISOR, VMADDR_CID_LOCAL, VMADDR_CID_HOST, VMADDR_PORT_ANY } from './constants.js';
export {
  VsockRpcError,
  isVsockRpcError,
  VsockError,
  VsockAddressNotAvailableError,
  VsockAddressInUseError,
  VsockUnsupportedError,
  VsockConnectionRefusedError,
  VsockTimeoutError,
  VsockInvalidArgumentError,
  VsockAbortError,
  VsockAddonError,
  HybridHandshakeError,
  AddressError,
  ACCEPTED_ADDRESS_FORMS,
  type VsockErrorOptions,
  type VsockRpcErrorOptions,
  type HybridHandshakeFailure,
} from './errors.js';
export { parseAddress, formatAddress, normalizeAddress, toAddress } from './address.js';
export type { TransportAddress, PeerInfo, TransportSocket, TransportServer, DialOptions, ListenOptions } from './types.js';
export { VsockSocket } from './vsock-socket.js';
export { connectVsock, type ConnectVsockOptions } from './vsock-connect.js';
export { VsockServer, createVsockServer, getLocalCid, type VsockServerOptions, type VsockListenOptions, type VsockServerEvents } from './vsock-server.js';
export { dialHybrid, listenHybrid, hybridListenPath, type HybridSocket } from './hybrid.js';
export { dial, listen } from './transport.js';
export { socketFromFd } from './stream-handle.js';
