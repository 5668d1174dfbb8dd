/**
 * Smoke test of the nested tier: the inner guest's virtio-vsock device gives it CID 3, and a
 * stream connection from it to CID 2 reaches a listener in the outer guest over vhost-vsock.
 * Both ends use python3's AF_VSOCK support because `node -e 0` alone takes minutes under
 * TCG-in-TCG; the project's own transports get their nested tests on top of this.
 * Opt-in: `npm run test:nested` (VSOCK_RPC_NESTED=1); the root vitest config excludes this folder.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guestSupportDetails, vmSupport } from '../harness.js';
import { runNested } from './harness-nested.js';

function nestedSkipReason(): string | null {
  if (!process.env.VSOCK_RPC_NESTED) return 'set VSOCK_RPC_NESTED=1 (npm run test:nested)';
  const s = vmSupport();
  if (!s.available) return s.reason;
  if (!guestSupportDetails().optionalModules.includes('vmw_vsock_virtio_transport')) return 'kernel has no vmw_vsock_virtio_transport module';
  if (!existsSync('/usr/bin/python3')) return 'the smoke test needs /usr/bin/python3';
  return null;
}
const skipReason = nestedSkipReason();
if (skipReason) console.warn(`[vm nested] skipping: ${skipReason}`);

const PORT = 9999;

const HOST_SIDE = `python3 - <<'EOF'
import json, os, socket
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.bind((socket.VMADDR_CID_ANY, ${PORT}))
s.listen(1)
print('@@NESTED host side listening', flush=True)
c, addr = s.accept()
msg = c.recv(100).decode()
c.sendall(b'hello from the host side')
json.dump({'peer': list(addr), 'msg': msg}, open(os.environ['VM_RESULTS_DIR'] + '/host.json', 'w'))
EOF`;

const GUEST_SIDE = `python3 - <<'EOF'
import fcntl, json, os, socket, struct
IOCTL_VM_SOCKETS_GET_LOCAL_CID = 0x7b9
with open('/dev/vsock', 'rb') as f:
    cid = struct.unpack('I', fcntl.ioctl(f, IOCTL_VM_SOCKETS_GET_LOCAL_CID, struct.pack('I', 0)))[0]
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.settimeout(120)
s.connect((socket.VMADDR_CID_HOST, ${PORT}))
s.sendall(b'hello from the inner guest')
reply = s.recv(100).decode()
json.dump({'cid': cid, 'reply': reply, 'release': os.uname().release}, open(os.environ['VM_RESULTS_DIR'] + '/guest.json', 'w'))
EOF`;

describe.skipIf(skipReason !== null)('nested QEMU: host-to-guest vsock between two kernels', () => {
  it(
    'the inner guest has CID 3 and reaches the outer guest on CID 2',
    async () => {
      const r = await runNested({ innerCommands: [GUEST_SIDE], hostCommands: [HOST_SIDE], timeoutMs: 15 * 60_000 });
      // The inner guest's own markers carry its uptime: where the minutes went (boot vs. commands).
      const markers = r.inner.console.split('\n').filter((l) => l.includes('@@VMRPC'));
      console.log(`[vm nested] outer run ${r.durationMs} ms, inner guest ${r.inner.durationMs} ms\n${markers.join('\n')}`);
      expect(r.inner.exitCodes).toEqual([0]);
      expect(r.inner.results.guest).toMatchObject({ cid: 3, reply: 'hello from the host side' });
      expect(r.host.exitCodes).toEqual([0]);
      expect(r.host.results.host).toEqual({ peer: [3, expect.any(Number)], msg: 'hello from the inner guest' });
    },
    16 * 60_000,
  );
});
