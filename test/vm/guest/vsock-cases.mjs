// vsock correctness cases inside the QEMU guest (vsock_loopback + vhost_vsock loaded).
// Each case writes $VM_RESULTS_DIR/vsock-<case>.json; test/vm/vsock.vm.test.ts asserts them.
import { assertInTestGuest, echoRoundTrip, echoServer, echoWorker, expectExit, runCase, vsock } from './vsock-common.mjs';

assertInTestGuest('vsock-cases');
const { dial, listen, connectVsock, createVsockServer, getLocalCid, VMADDR_CID_ANY } = vsock;
const readAll = (s) =>
  new Promise((resolve, reject) => {
    const parts = [];
    s.on('data', (d) => parts.push(d));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });

await runCase('vsock-env', async () => ({ localCid: getLocalCid() }));

// 100 MB echo with a checksum over vsock loopback (CID 1).
await runCase(
  'vsock-echo100',
  async () => {
    // The echo server runs in a worker thread (which also checks the addon off the main thread).
    const server = await echoWorker('vsock://local:any');
    const port = server.port;
    const c = await dial({ transport: 'vsock', cid: 1, port });
    const r = await echoRoundTrip(c, 100 * 1000 * 1000, 64 * 1024);
    const closed = await server.close();
    return { port, peer: c.peer, ...r, workerAccepted: closed.accepted, match: r.sentSha === r.recvSha && r.received === r.bytes };
  },
  240_000,
);

// 64 concurrent connections, each echoing its own 64 KiB.
await runCase('vsock-concurrent64', async () => {
  const { server, sockets } = await echoServer('vsock://1:any');
  const port = server.address.port;
  const results = await Promise.all(
    Array.from({ length: 64 }, async (_, i) => {
      const c = await connectVsock({ cid: 1, port, timeoutMs: 20_000 });
      const data = Buffer.alloc(64 * 1024, i);
      const got = readAll(c);
      c.end(data);
      const back = await got;
      return { ok: back.equals(data), localPort: c.localPort, remoteCid: c.remoteCid, remotePort: c.remotePort };
    }),
  );
  await server.close();
  return {
    connections: results.length,
    allEchoed: results.every((r) => r.ok),
    distinctLocalPorts: new Set(results.map((r) => r.localPort)).size,
    accepted: sockets.length,
    serverSawCid: [...new Set(sockets.map((s) => s.remoteCid))],
    remotePortOk: results.every((r) => r.remotePort === port && r.remoteCid === 1),
  };
});

// Half-close: client ends its side; server (allowHalfOpen) answers afterwards, then ends.
await runCase('vsock-halfclose', async () => {
  const server = await listen('vsock://1:any', { allowHalfOpen: true });
  server.on('connection', (s) => {
    let n = 0;
    s.on('data', (d) => (n += d.length));
    s.on('end', () => setTimeout(() => s.end(`received ${n} bytes after your FIN`), 50));
  });
  const c = await dial(`vsock://1:${server.address.port}`, { allowHalfOpen: true });
  let ended = false;
  const closed = new Promise((r) => c.once('close', r));
  c.once('finish', () => (ended = true));
  c.end(Buffer.alloc(12345));
  const reply = (await readAll(c)).toString();
  await closed;
  await server.close();
  return { reply, writableFinishedBeforeReply: ended };
});

// Peer reset: the server destroys the connection while the client keeps writing.
await runCase('vsock-reset', async () => {
  const server = await listen('vsock://1:any');
  server.on('connection', (s) => {
    s.once('data', () => s.destroy());
  });
  const c = await dial(`vsock://1:${server.address.port}`);
  const outcome = await new Promise((resolve) => {
    const events = [];
    c.on('error', (e) => events.push(`error:${e.code}`));
    c.on('end', () => events.push('end'));
    c.on('close', (hadError) => resolve({ events, hadError }));
    c.on('data', () => {});
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = () => {
      for (let i = 0; i < 1000 && !c.destroyed; i++) {
        if (!c.write(chunk)) return void c.once('drain', pump);
      }
      if (!c.destroyed) c.end();
    };
    pump();
  });
  await server.close();
  return outcome;
});

// Connect to a port nobody listens on: typed error saying so.
await runCase('vsock-nolistener', async () => {
  const err = await connectVsock({ cid: 1, port: 40999, timeoutMs: 10_000 }).then(
    (s) => (s.destroy(), null),
    (e) => e,
  );
  if (!err) throw new Error('connected to a port with no listener');
  return { name: err.name, code: err.code, message: err.message, isVsockError: err instanceof vsock.VsockError };
});

// Bind to a foreign CID: EADDRNOTAVAIL with the CIDs bindable here.
await runCase('vsock-foreigncid', async () => {
  const err = await listen('vsock://12345:5000').then(
    async (s) => (await s.close(), null),
    (e) => e,
  );
  if (!err) throw new Error('bound a foreign CID');
  return { name: err.name, code: err.code, message: err.message };
});

// The original demo's defaults: server on CID any port 11451, client dialing CID 2 port 11451.
await runCase('vsock-defaults', async () => {
  const server = createVsockServer();
  const accepted = [];
  server.on('connection', (s) => {
    accepted.push({ remoteCid: s.remoteCid, localCid: s.localCid, localPort: s.localPort });
    s.pipe(s);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(11451, undefined, resolve);
  });
  const address = server.address();
  const c = await dial('vsock://host:11451');
  const got = readAll(c);
  c.end('hello over CID 2');
  const echo = (await got).toString();
  // close() stops accepting but an open connection keeps working.
  const c2 = await connectVsock({ cid: 2, port: 11451 });
  await new Promise((r) => server.close(r));
  const got2 = readAll(c2);
  c2.end('still open after server.close()');
  const echo2 = (await got2).toString();
  const after = await connectVsock({ cid: 2, port: 11451, timeoutMs: 5000 }).then(
    (s) => (s.destroy(), 'connected'),
    (e) => e.name,
  );
  return { address, anyIs: VMADDR_CID_ANY, echo, echo2, afterClose: after, peer: { ...c.peer, address: vsock.formatAddress(c.peer.address) }, accepted };
});

// A worker terminated while its vsock listener is open: the addon's env cleanup hook must
// close its poll handle without calling back into the unloaded addon (that crashed), and
// close the listening fd, which nobody else can close any more.
await runCase('vsock-worker-teardown', async () => {
  const server = await echoWorker('vsock://1:any');
  const c1 = await connectVsock({ cid: 1, port: server.port });
  c1.on('error', () => {});
  const echoed = new Promise((r) => c1.once('data', (d) => r(d.toString())));
  c1.write('ping');
  const first = await echoed;
  const exitCode = await server.worker.terminate();
  c1.destroy(); // Node leaves a dead worker's sockets open (net.Socket too): close ours
  // The listener is gone: its port refuses now.
  const after = await connectVsock({ cid: 1, port: server.port, timeoutMs: 5000 }).then(
    (s) => (s.destroy(), 'connected'),
    (e) => e.name,
  );
  // The main thread still works afterwards.
  const again = await echoWorker('vsock://1:any');
  const c3 = await connectVsock({ cid: 1, port: again.port });
  const got = readAll(c3);
  c3.end('alive');
  const echo = (await got).toString();
  await again.close();
  return { first, exitCode, after, echo };
});

// An unknown far CID: what the kernel says, typed (no transport reaches it, or timeout).
await runCase('vsock-unreachable', async () => {
  const err = await connectVsock({ cid: 99, port: 1, timeoutMs: 5000 }).then(
    (s) => (s.destroy(), null),
    (e) => e,
  );
  return err ? { name: err.name, code: err.code, message: err.message } : { connected: true };
});

expectExit('vsock-cases');
