/**
 * Attack 7a: real `envtest client` processes, SIGKILLed mid-stream (no GOAWAY, no flush, a
 * frame cut anywhere). The server must forget them and go on.
 */
import { startClient } from '../harness/observer.js';
import { type Attack } from '../harness/types.js';
import { prng } from '../lib/prng.js';
import { sleep } from '../lib/peer.js';

export const kill9Clients: Attack = async (env) => {
  const total = env.full ? 100 : 12;
  const concurrency = 3;
  const rnd = prng(0x0c11e7);
  let next = 0;
  let killed = 0;
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        if (i % 10 === 0) env.log(`  kill -9: client ${i}/${total}`);
        const c = startClient(env.dir, env.port, `victim-${i}`, 1_000_000, 2000);
        // Node start + worker threads take ~0.5-1 s here; kill somewhere in the stream after that.
        await sleep(900 + Math.floor(rnd() * 1200));
        if (c.child.exitCode !== null) failures.push(`victim-${i} exited by itself (${c.child.exitCode}): ${c.stderr().slice(-200)}`);
        c.child.kill('SIGKILL');
        await c.done;
        killed++;
      }
    }),
  );
  return {
    sent: `${killed} envtest clients at 2000 events/s, SIGKILLed mid-stream`,
    closeCodes: 'n/a (the peer is gone: nothing to send a GOAWAY to)',
    failures,
  };
};
