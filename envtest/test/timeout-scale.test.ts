/**
 * `--timeout-scale` (issue 18): one flag stretches a server's and a client's time limits for slow
 * guests, and a scaled limit is still a limit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuilt, run, start, until } from './helpers.js';

requireBuilt();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envtest-scale-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--timeout-scale', () => {
  it.each([['server'], ['client']])('envtest %s refuses a scale that is not a positive number (exit 2)', async (command) => {
    for (const bad of ['0', '-2', 'slow']) {
      const r = await run([command!, '--timeout-scale', bad]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('--timeout-scale must be');
    }
  });

  it('scales the server handshake: at 0.05 a connection that never says HELLO is closed after 0.25 s, and the log says how to let a slow guest in', async () => {
    const sock = join(dir, 'h.sock');
    const server = start(['server', '--listen', `unix://${sock}`, '--rate', '0', '--quiet', '--timeout-scale', '0.05']);
    try {
      await until(() => server.stderr().includes('listening on'), 15_000, 'the server to listen');
      const socket = net.connect({ path: sock });
      socket.on('error', () => {});
      socket.resume(); // read what the server sends (its HELLO, then its GOAWAY), so 'close' comes
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await closed;
      await until(() => server.stderr().includes('no HELLO'), 15_000, 'the log line');
      expect(server.stderr()).toMatch(
        /no HELLO from unix:.* within 0\.3 s: the peer is slow or is not a vsock-rpc endpoint \(raise timeoutScale, now 0\.05, for slow guests; envtest: --timeout-scale\)/,
      );
    } finally {
      server.child.kill('SIGINT');
      await server.done;
    }
  });
});
