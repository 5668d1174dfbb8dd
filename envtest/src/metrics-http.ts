/**
 * The /metrics endpoint: a node:http server in the main thread. The metrics live in the worker
 * threads (the engine's in connect, envtest's in visualize), each in its own prom-client
 * registry; a scrape asks every worker for its metrics as JSON and joins them with
 * AggregatorRegistry.aggregate (the names do not overlap, so joining is a union).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';

/** Asks one worker for its metrics (`registry.getMetricsAsJSON()`). */
export type MetricsSource = () => Promise<object[]>;

/** A running /metrics server. */
export interface MetricsServer {
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves GET /metrics on host:port (port 0: any free port). */
export async function startMetricsServer(host: string, port: number, sources: readonly MetricsSource[]): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' }).end(path === '/metrics' ? 'use GET\n' : 'try /metrics\n');
      return;
    }
    Promise.all(sources.map((s) => s()))
      .then(async (lists) => {
        const registry = AggregatorRegistry.aggregate(lists as object[]);
        const body = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType }).end(body);
      })
      .catch((err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${err.message}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${h}:${a.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
