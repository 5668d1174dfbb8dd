// The load of the ftrace comparison: for argv[2] ms, sleeps 100 µs at a time (each sleep is a
// sched_switch out and a wakeup back in), and spins between sleeps.
const sab = new Int32Array(new SharedArrayBuffer(4));
const end = Date.now() + Number(process.argv[2] ?? 1000);
let n = 0;
while (Date.now() < end) {
  Atomics.wait(sab, 0, 0, 0.1);
  for (let i = 0; i < 2000; i++) n += i;
}
console.log(`load done ${n > 0}`);
