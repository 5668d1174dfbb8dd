import type { PeerInfo, TransportAddress } from '@vsock-rpc/vsock';

/** Who is at the other end of a connection. */
export interface PeerContext {
  /** The name the peer gave in its HELLO. */
  readonly name: string;
  /** Its transport address (`formatAddress` shows it: 'vsock://3:1024', 'unix:///run/x.sock'). */
  readonly address: TransportAddress;
  /** The transport: 'vsock', 'hybrid', 'unix' or 'tcp'. */
  readonly transport: PeerInfo['transport'];
  /** Its vsock CID, when the transport knows it. */
  readonly cid: number | undefined;
  /** A process-unique id of the connection, for logs and maps. */
  readonly connectionId: number;
}
