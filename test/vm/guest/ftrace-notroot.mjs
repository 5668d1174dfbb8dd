// Run by ftrace-check.mjs as uid 65534 (setpriv): FtraceSource.open must fail with NOT_ROOT.
// Prints one JSON line on stdout.
import { trace } from './ftrace-common.mjs';

try {
  const s = await trace.FtraceSource.open({ events: ['sched:sched_switch'] });
  await s.close();
  console.log(JSON.stringify({ thrown: false, uid: process.getuid() }));
} catch (e) {
  console.log(
    JSON.stringify({
      thrown: true,
      uid: process.getuid(),
      isFtraceError: e instanceof trace.FtraceError,
      code: e?.code,
      message: String(e?.message),
      path: e?.path,
    }),
  );
}
