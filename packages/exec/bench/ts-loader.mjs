// A module-loader hook (module.register) so that this plain-JS bench can import the QEMU
// harness, test/vm/harness.ts, as it is (Node 20 cannot strip types). `.ts` files are transpiled
// one by one with the checkout's TypeScript (types dropped, no type checking). The same idea as
// bench/src/vm/ts-loader.ts, kept here so that this bench needs no build of bench/.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const out = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
