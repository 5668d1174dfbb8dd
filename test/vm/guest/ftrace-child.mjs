// Run by ftrace-check.mjs and killed with SIGKILL: opens a source with the default instance name
// (vsock-rpc-<pid>), says "ready <instancePath>", then waits to be killed, so its instance is left behind.
import { setInterval } from 'node:timers';
import { trace } from './ftrace-common.mjs';

const s = await trace.FtraceSource.open({ events: ['sched:sched_switch'], bufferKb: 64 });
console.log(`ready ${s.instancePath}`);
setInterval(() => s.poll(), 100);
