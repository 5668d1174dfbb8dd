import { defineRegistry } from '@vsock-rpc/wire';
import { Type } from '@sinclair/typebox';
const reg = defineRegistry({ messages: { m: { id: 4, schema: Type.Object({ n: Type.Integer() }) } }, methods: { f: { id: 100, request: Type.Object({}), response: Type.Object({}) } } });
const variant = process.argv[2];
const { EngineMetrics } = await import(`./${variant}/metrics.js`);
const m = new EngineMetrics(reg);
function run(n) { for (let i = 0; i < n; i++) { m.frameIn(4, 1, 20); m.frameIn(100, 2, 30); } }
run(5e6);
let best = Infinity;
for (let r = 0; r < 5; r++) { const t = process.hrtime.bigint(); run(1e7); best = Math.min(best, Number(process.hrtime.bigint() - t) / 2e7); }
console.log(variant, best.toFixed(3), 'ns/frame');
