// The ENGINE (ServerEngine / ClientEngine) over real AF_VSOCK and over hybrid vsock, inside the
// QEMU test guest (vsock_loopback + vhost_vsock loaded). Three parts, one result file
// ($VM_RESULTS_DIR/engine-transports.json, rewritten after each part); test/vm/engine.vm.test.ts
// asserts it. Never run this on the host: assertInTestGuest refuses to.
//
// 1. vsock:  ServerEngine.listen('vsock://any:any') <- ClientEngine.connect('vsock://1:<port>').
// 2. hybrid, host-initiated: a muxer playing the VMM (Firecracker / Cloud Hypervisor) serves the
//    unix socket <dir>/v.sock: per connection it reads `CONNECT <port>\n`, dials vsock://1:<port>,
//    answers `OK <localport>\n` and pipes both ways. ClientEngine.connect('hybrid://<dir>/v.sock:<port>')
//    reaches a ServerEngine on vsock://any:<port>.
// 3. hybrid, guest-initiated: ServerEngine.listen('hybrid://<dir>/v.sock:<port3>') listens at
//    <dir>/v.sock_<port3>; the muxer accepts real vsock connections on vsock://any:<port4> and
//    forwards each to that unix socket. ClientEngine.connect('vsock://1:<port4>').
// 4. streamVsock: a 256 MiB client stream (PROTOCOL.md §11) over vsock://1, 64 KiB chunks with the
//    default window; sha256 of what the client wrote = sha256 of what the server's handler read.
// 5. streamHybrid: the same 256 MiB as a server stream, the client on hybrid://<dir>/s.sock:<port>
//    through a muxer like part 2's; sha256 of what the handler wrote = of what the client read.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { assertInTestGuest, expectExit, vsock, writeResult } from './vsock-common.mjs';

const NAME = 'engine-transports';
assertInTestGuest(NAME);

const { ClientEngine, ServerEngine } = await import('../../../packages/engine/dist/index.js');
const { exampleRegistry: registry } = await import('../../../packages/wire/dist/examples.js');
const { defineRegistry } = await import('../../../packages/wire/dist/index.js');
const { Type } = await import('@sinclair/typebox');
const { connectVsock, listen, hybridListenPath } = vsock;

const EVENTS = Number(process.env.ENGINE_VM_EVENTS ?? 10_000);
const CALLS = Number(process.env.ENGINE_VM_CALLS ?? 200);
const REVERSE_CALLS = 20;
const PART_TIMEOUT_MS = 90_000;
const STREAM_BYTES = Number(process.env.ENGINE_VM_STREAM_BYTES ?? 256 * 1024 * 1024);
const STREAM_CHUNK = 64 * 1024;
const STREAM_PART_TIMEOUT_MS = 240_000;

const dir = mkdtempSync('/tmp/engvm-');
const udsPath = join(dir, 'v.sock');
const streamUdsPath = join(dir, 's.sock');
const result = { events: EVENTS, calls: CALLS, streamBytes: STREAM_BYTES, udsPath };
const engineOpts = { registry, logger: null };

const log = (msg) => console.error(`[${NAME}] ${msg}`);
const errText = (err) => String(err?.stack ?? err);

/** Polls `cond` every 10 ms until true or `ms` elapsed (then throws `what`). */
async function waitFor(cond, ms, what) {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Pipes a and b both ways; an error or abrupt close on one side destroys the other. */
function splice(a, b, sockets) {
  for (const s of [a, b]) {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  }
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.once('close', () => b.end());
  b.once('close', () => a.end());
  a.pipe(b);
  b.pipe(a);
}

/**
 * The VMM side of host-initiated hybrid vsock: a unix server at `path`. Each connection must start
 * with `CONNECT <port>\n`; the muxer dials vsock://1:<port>, answers `OK <its local port>\n`, then
 * splices the two streams (bytes that followed the CONNECT line are kept and forwarded).
 */
async function startConnectMuxer(path) {
  const sockets = new Set();
  const stats = { accepted: 0, connectLines: [], okLines: [], forwardedEarlyBytes: 0, errors: [] };
  const server = net.createServer((u) => {
    stats.accepted++;
    sockets.add(u);
    u.once('close', () => sockets.delete(u));
    u.on('error', (e) => stats.errors.push(`unix: ${e.code ?? e.message}`));
    let buf = Buffer.alloc(0);
    const onReadable = () => {
      let chunk;
      while ((chunk = u.read()) !== null) {
        buf = Buffer.concat([buf, chunk]);
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          if (buf.length > 64) {
            stats.errors.push('no newline in the first 64 bytes');
            u.destroy();
            return;
          }
          continue;
        }
        u.off('readable', onReadable);
        void onLine(buf.subarray(0, nl).toString('latin1'), buf.subarray(nl + 1));
        return;
      }
    };
    u.on('readable', onReadable);
    async function onLine(line, rest) {
      stats.connectLines.push(line);
      const m = /^CONNECT (\d{1,10})$/.exec(line);
      if (!m) {
        stats.errors.push(`bad line ${JSON.stringify(line)}`);
        u.destroy(); // Firecracker drops the connection
        return;
      }
      let v;
      try {
        v = await connectVsock({ cid: 1, port: Number(m[1]), timeoutMs: 10_000 });
      } catch (e) {
        stats.errors.push(`vsock connect: ${e.name} ${e.code}`);
        u.destroy();
        return;
      }
      if (u.destroyed) {
        v.destroy();
        return;
      }
      const ok = `OK ${v.localPort}`;
      stats.okLines.push(ok);
      u.write(`${ok}\n`);
      if (rest.length > 0) {
        stats.forwardedEarlyBytes += rest.length;
        u.unshift(rest);
      }
      v.on('error', (e) => stats.errors.push(`vsock: ${e.code ?? e.message}`));
      splice(u, v, sockets);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    stats,
    close: async () => {
      await new Promise((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
    },
  };
}

/**
 * The VMM side of guest-initiated hybrid vsock: accepts real vsock connections on
 * vsock://any:any and forwards each to the unix socket `target` (`<uds path>_<port>`).
 */
async function startForwardMuxer(target) {
  const sockets = new Set();
  const stats = { accepted: 0, peers: [], errors: [] };
  const server = await listen('vsock://any:any');
  server.on('connection', (v) => {
    stats.accepted++;
    stats.peers.push(v.peer);
    v.on('error', (e) => stats.errors.push(`vsock: ${e.code ?? e.message}`));
    const u = net.connect({ path: target });
    u.on('error', (e) => stats.errors.push(`unix: ${e.code ?? e.message}`));
    splice(v, u, sockets);
  });
  return {
    stats,
    port: server.address.port,
    close: async () => {
      await server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

/** Events (client -> server, in order), calls both ways, peer contexts; closes both engines. */
async function exercise(serverEngine, connectAddress) {
  let received = 0;
  let inOrder = true;
  let firstBad;
  const eventTransports = new Set();
  serverEngine.on('messageexp', (ev, peer) => {
    eventTransports.add(peer.transport);
    if (ev.timestamp !== BigInt(received) || ev.str !== `ev-${received}`) {
      if (inOrder) firstBad = { at: received, timestamp: String(ev.timestamp), str: ev.str };
      inOrder = false;
    }
    received++;
  });
  serverEngine.handle('echo', (req) => req);
  let serverPeer;
  serverEngine.on('peer', (h) => (serverPeer = h));

  let client;
  try {
    const t0 = performance.now();
    client = await ClientEngine.connect(connectAddress, { ...engineOpts, name: 'guest-client', reconnect: false, connectTimeoutMs: 15_000 });
    const connectMs = Math.round(performance.now() - t0);
    client.handle('echo', (req) => ({ timestamp: req.timestamp + 1n, str: `back:${req.str}` }));
    await waitFor(() => serverPeer !== undefined, 10_000, "the server's peer event");

    // Events.
    const t1 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      const p = client.send('messageexp', { timestamp: BigInt(i), str: `ev-${i}` });
      if (p) await p;
    }
    await client.flush();
    await waitFor(() => received >= EVENTS, 60_000, `${EVENTS} events (got ${received})`);
    const eventsMs = Math.round(performance.now() - t1);

    // Calls client -> server, in flight together, each checked against its own request.
    const t2 = performance.now();
    const responses = await Promise.all(
      Array.from({ length: CALLS }, (_, i) => {
        const req = { timestamp: 1_000_000_000_000n + BigInt(i), str: `call-${i}` };
        return client.call('echo', req, { timeoutMs: 30_000 }).then(
          (res) => typeof res.timestamp === 'bigint' && res.timestamp === req.timestamp && res.str === req.str,
          () => false,
        );
      }),
    );
    const callsMs = Math.round(performance.now() - t2);

    // A few calls the other way (server -> client) over the same connection.
    const reverse = await Promise.all(
      Array.from({ length: REVERSE_CALLS }, (_, i) =>
        serverPeer.call('echo', { timestamp: BigInt(i), str: `rev-${i}` }, { timeoutMs: 30_000 }).then(
          (res) => typeof res.timestamp === 'bigint' && res.timestamp === BigInt(i) + 1n && res.str === `back:rev-${i}`,
          () => false,
        ),
      ),
    );

    const ctx = serverPeer.context;
    const cp = client.peer;
    return {
      eventsReceived: received,
      eventsInOrder: inOrder && received === EVENTS,
      ...(firstBad ? { firstOutOfOrder: firstBad } : {}),
      eventTransports: [...eventTransports],
      callsOk: responses.filter(Boolean).length,
      reverseCallsOk: reverse.filter(Boolean).length,
      // Addresses are TransportAddress objects: reported as a human reads them, through the one formatter.
      serverPeer: { transport: ctx.transport, cid: ctx.cid ?? null, address: vsock.formatAddress(ctx.address), name: ctx.name },
      clientPeer: cp ? { transport: cp.transport, cid: cp.cid ?? null, address: vsock.formatAddress(cp.address), name: cp.name } : null,
      connects: client.connectCount,
      connectMs,
      eventsMs,
      callsMs,
    };
  } finally {
    await client?.close(5000);
    await serverEngine.close(5000);
  }
}

// ---- streams: 256 MiB with a checksum ----

const Chunk = Type.Object({ data: Type.Uint8Array() });
const streamRegistry = defineRegistry({
  streams: {
    upload: { id: 300, mode: 'client', request: Chunk, response: Type.Object({ bytes: Type.Integer(), chunks: Type.Integer(), sha256: Type.String() }) },
    download: { id: 301, mode: 'server', request: Type.Object({ bytes: Type.Integer() }), response: Chunk },
  },
});
// The default stream window (256 KiB): the credit path a user gets.
const streamOpts = { registry: streamRegistry, logger: null };

/**
 * The chunks of a stream of `total` bytes: fresh buffers, each a different window of 1 MiB of
 * random bytes with its index stamped in front, so a lost, repeated or reordered chunk changes
 * the checksum. The last chunk may be short.
 */
function* streamChunks(total) {
  const base = randomBytes(1024 * 1024 + STREAM_CHUNK);
  for (let i = 0, off = 0; off < total; i++, off += STREAM_CHUNK) {
    const n = Math.min(STREAM_CHUNK, total - off);
    const c = Buffer.allocUnsafe(n);
    base.copy(c, 0, (i * 7919) % (1024 * 1024), ((i * 7919) % (1024 * 1024)) + n);
    if (n >= 4) c.writeUInt32BE(i, 0);
    yield new Uint8Array(c.buffer, c.byteOffset, n);
  }
}

/** Writes `total` bytes through `write` (each awaited: the credit), hashing what was written. */
async function sendStream(total, write) {
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  for (const data of streamChunks(total)) {
    hash.update(data);
    await write({ data });
    bytes += data.length;
    chunks++;
  }
  return { bytes, chunks, sha256: hash.digest('hex') };
}

/** Reads a stream to its end, hashing what arrived. */
async function receiveStream(reader) {
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  for await (const { data } of reader) {
    hash.update(data);
    bytes += data.length;
    chunks++;
  }
  return { bytes, chunks, sha256: hash.digest('hex') };
}

/**
 * One 256 MiB stream between a ServerEngine and a ClientEngine dialling `connectAddress`:
 * 'upload' (client streaming) or 'download' (server streaming). Both ends' byte counts and
 * sha256 are reported; closes both engines.
 */
async function streamChecksum(serverEngine, connectAddress, direction) {
  let serverSide;
  serverEngine.handleStream('upload', async (chunks) => (serverSide = await receiveStream(chunks)));
  serverEngine.handleStream('download', async (req, stream) => {
    serverSide = await sendStream(req.bytes, (m) => stream.write(m));
  });
  let client;
  try {
    client = await ClientEngine.connect(connectAddress, { ...streamOpts, name: 'guest-client', reconnect: false, connectTimeoutMs: 15_000 });
    const t0 = performance.now();
    let clientSide;
    if (direction === 'upload') {
      const up = client.openStream('upload', { timeoutMs: STREAM_PART_TIMEOUT_MS });
      clientSide = await sendStream(STREAM_BYTES, (m) => up.write(m));
      await up.end();
      const answer = await up.response;
      if (answer.sha256 !== serverSide?.sha256) throw new Error(`the handler answered ${JSON.stringify(answer)}, but recorded ${JSON.stringify(serverSide)}`);
    } else {
      clientSide = await receiveStream(client.openStream('download', { bytes: STREAM_BYTES }, { timeoutMs: STREAM_PART_TIMEOUT_MS }));
      await waitFor(() => serverSide !== undefined, 10_000, 'the download handler to finish');
    }
    const ms = Math.round(performance.now() - t0);
    const [sent, received] = direction === 'upload' ? [clientSide, serverSide] : [serverSide, clientSide];
    return {
      direction,
      sent,
      received,
      streamMs: ms,
      mbPerSecond: Math.round((STREAM_BYTES / 1e6 / (ms / 1000)) * 10) / 10,
      peerTransport: client.peer?.transport ?? null,
      streamsLeft: client.connection?.stats().streams ?? null,
    };
  } finally {
    await client?.close(5000);
    await serverEngine.close(5000);
  }
}

/** Runs one part with a deadline, records its figures (or its error) and rewrites the result file. */
async function part(name, fn, timeoutMs = PART_TIMEOUT_MS) {
  log(`${name} start`);
  const started = performance.now();
  let timer;
  try {
    const value = await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`part ${name} timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    result[name] = { ok: true, ms: Math.round(performance.now() - started), ...value };
    log(`${name} ok in ${result[name].ms} ms: ${JSON.stringify(value)}`);
  } catch (err) {
    result[name] = { ok: false, ms: Math.round(performance.now() - started), error: errText(err) };
    log(`${name} FAILED: ${errText(err)}`);
  } finally {
    clearTimeout(timer);
    writeResult(NAME, result);
  }
}

await part('vsock', async () => {
  const server = await ServerEngine.listen('vsock://any:any', { ...engineOpts, name: 'guest-server' });
  const port = server.address.port;
  return { listen: `vsock://any:${port}`, connect: `vsock://1:${port}`, ...(await exercise(server, `vsock://1:${port}`)) };
});

await part('hybridHostInitiated', async () => {
  const muxer = await startConnectMuxer(udsPath);
  try {
    const server = await ServerEngine.listen('vsock://any:any', { ...engineOpts, name: 'guest-server' });
    const port = server.address.port;
    const connect = `hybrid://${udsPath}:${port}`;
    const figures = await exercise(server, connect);
    return { listen: `vsock://any:${port}`, connect, ...figures, muxer: muxer.stats };
  } finally {
    await muxer.close();
  }
});

await part('hybridGuestInitiated', async () => {
  const hybridPort = 5103;
  const listenAddr = `hybrid://${udsPath}:${hybridPort}`;
  const server = await ServerEngine.listen(listenAddr, { ...engineOpts, name: 'guest-server' });
  const target = hybridListenPath(udsPath, hybridPort);
  let muxer;
  try {
    muxer = await startForwardMuxer(target);
  } catch (err) {
    await server.close(0);
    throw err;
  }
  try {
    const connect = `vsock://1:${muxer.port}`;
    const figures = await exercise(server, connect);
    return { listen: listenAddr, unixPath: target, connect, ...figures, muxer: muxer.stats };
  } finally {
    await muxer.close();
  }
});

await part(
  'streamVsock',
  async () => {
    const server = await ServerEngine.listen('vsock://any:any', { ...streamOpts, name: 'guest-server' });
    const connect = `vsock://1:${server.address.port}`;
    return { connect, ...(await streamChecksum(server, connect, 'upload')) };
  },
  STREAM_PART_TIMEOUT_MS,
);

await part(
  'streamHybrid',
  async () => {
    const muxer = await startConnectMuxer(streamUdsPath);
    try {
      const server = await ServerEngine.listen('vsock://any:any', { ...streamOpts, name: 'guest-server' });
      const connect = `hybrid://${streamUdsPath}:${server.address.port}`;
      return { connect, ...(await streamChecksum(server, connect, 'download')), muxer: muxer.stats };
    } finally {
      await muxer.close();
    }
  },
  STREAM_PART_TIMEOUT_MS,
);

result.done = true;
writeResult(NAME, result);
rmSync(dir, { recursive: true, force: true });
log('done');
expectExit(NAME);
