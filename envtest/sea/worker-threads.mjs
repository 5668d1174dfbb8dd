// `node:worker_threads` as envtest's worker-handle.js sees it inside the single executable
// (scripts/dist.mjs aliases it there, and only there). A single executable application cannot
// start a worker from a file, so `new Worker(new URL('./workers/<name>.js', …))` runs the bundled
// source of that worker instead (an ES module, from a data: URL); everything else is Node's own.
import { Worker as NodeWorker } from 'node:worker_threads';
import sources from 'envtest-sea:workers';

export * from 'node:worker_threads';

export class Worker extends NodeWorker {
  constructor(file, options = {}) {
    const name = String(file).replace(/^.*\//, '').replace(/\.js$/, '');
    const code = Object.hasOwn(sources, name) ? sources[name] : undefined;
    if (code === undefined) throw new Error(`envtest (single executable): no bundled worker '${name}' (from ${String(file)})`);
    super(new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`), options);
  }
}
