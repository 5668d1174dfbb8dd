// Entry script of every peer process (forked by runner/pair.ts, possibly under taskset).
// It waits for a 'start' message, runs the requested role of the requested implementation,
// and reports its result over IPC.
import type { FromPeer, PeerContext, ToPeer } from './peer-ipc.js';
import { loadPeer } from './peer-registry.js';

function send(msg: FromPeer, then?: () => void): void {
  if (!process.send) throw new Error('peers/main.js must be started with an IPC channel (fork)');
  process.send(msg, undefined, {}, () => then?.());
}

// The implementation is named on the command line so its import (grpc-js takes a while) runs
// while the parent is still waiting for the other peer; 'start' then only supplies the details.
const implName = process.argv[2] ?? '';
const modP = loadPeer(implName);
modP.catch(() => {}); // reported when 'start' awaits it

let resolveStopped: () => void = () => {};
const stopped = new Promise<void>((resolve) => {
  resolveStopped = resolve;
});

process.on('message', (raw: unknown) => {
  const msg = raw as ToPeer;
  if (msg.type === 'stop') {
    resolveStopped();
    return;
  }
  void (async () => {
    try {
      const mod = await (msg.impl === implName ? modP : loadPeer(msg.impl));
      const ctx: PeerContext = {
        socketPath: msg.socketPath,
        tmpDir: msg.tmpDir,
        params: msg.params,
        ready: () => send({ type: 'ready' }),
        stopped,
      };
      const result = await mod[msg.role](ctx);
      // Exit explicitly once the result is out: a role that leaks a handle (a grpc channel,
      // a timer) must not keep this process, and therefore the suite, alive.
      send({ type: 'result', result }, () => process.exit(0));
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      send({ type: 'error', message: e.message, ...(e.stack ? { stack: e.stack } : {}) }, () => process.exit(1));
    }
  })();
});

// The parent going away (suite aborted) must take the peer with it.
process.on('disconnect', () => process.exit(0));
