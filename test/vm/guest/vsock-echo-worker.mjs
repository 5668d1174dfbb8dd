// An echo server in a worker thread, so the guest's echo tests use two threads like the C
// baseline (server thread + client), and the addon is exercised off the main thread.
import { parentPort, workerData } from 'node:worker_threads';

const { listen } = await import('../../../packages/vsock/dist/index.js');
const server = await listen(workerData.address, workerData.options ?? {});
let accepted = 0;
server.on('connection', (s) => {
  accepted++;
  s.on('error', () => {});
  s.pipe(s);
});
parentPort.postMessage({ port: server.address.port });
parentPort.on('message', async (m) => {
  if (m === 'close') {
    await server.close();
    parentPort.postMessage({ closed: true, accepted });
    parentPort.close();
  }
});
