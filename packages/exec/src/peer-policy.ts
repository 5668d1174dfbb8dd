/**
 * Who may open sessions. The agent is a remote shell, so on vsock it accepts only the CIDs of its
 * allowlist, by default the host alone (CID 2). A vsock peer's CID is set by the hypervisor, not
 * by the peer, which is what makes it worth checking. Unix, TCP and hybrid listeners carry no
 * CID: there the socket's own access rules (file permissions, the bound address) decide, and the
 * token is the check on top.
 */
import type { PeerContext, TransportAddress } from '@vsock-rpc/engine';
import { usageError } from './errors.js';

/** The CID of the host, as a guest sees it (VMADDR_CID_HOST). */
export const HOST_CID = 2;
/** The default allowlist: only the host. */
export const DEFAULT_ALLOW_CIDS: readonly number[] = [HOST_CID];

/** The vsock CIDs allowed to open sessions, or `'any'` for every CID. */
export type CidAllowlist = readonly number[] | 'any';

/**
 * Parses `--allow-cid`: a comma-separated list of CIDs (`2`, `2,3`), `host` for 2, `local` for 1,
 * or `any`. Throws `ERR_EXEC_USAGE` on anything else.
 */
export function parseCidList(text: string): CidAllowlist {
  const t = text.trim();
  if (t === 'any') return 'any';
  const cids = t.split(',').map((part) => {
    const p = part.trim();
    if (p === 'host') return HOST_CID;
    if (p === 'local') return 1;
    if (!/^\d{1,10}$/.test(p) || Number(p) > 0xffff_ffff)
      throw usageError(`--allow-cid ${JSON.stringify(text)}: give CIDs as numbers separated by commas (e.g. 2,3), 'host', 'local' or 'any'`);
    return Number(p);
  });
  return cids;
}

/** Why `peer` may not open a session under `allow`, or undefined when it may. */
export function peerRefusal(peer: Pick<PeerContext, 'transport' | 'cid'>, allow: CidAllowlist): string | undefined {
  if (allow === 'any' || peer.transport !== 'vsock') return undefined;
  if (peer.cid === undefined) return 'a vsock peer without a CID';
  if (!allow.includes(peer.cid))
    return `CID ${peer.cid} is not in the allowlist (${allow.join(', ')}): start the agent with --allow-cid ${[...allow, peer.cid].join(',')} to admit it`;
  return undefined;
}

/** The ServerEngine options that enforce `allow` at connect time (GOAWAY CID_NOT_ALLOWED) on a vsock listener. */
export function engineAllowlist(listen: TransportAddress, allow: CidAllowlist): { allowCids?: readonly number[]; requireCid?: boolean } {
  if (allow === 'any' || listen.transport !== 'vsock') return {};
  return { allowCids: allow, requireCid: true };
}
