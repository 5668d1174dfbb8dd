// A module-loader hook (module.register) that lets the compiled suite import the QEMU harness,
// test/vm/harness.ts, as it is: Node 20 cannot strip types, the harness lives outside bench's
// rootDir, and copying it would fork the one place that knows how to boot the test guest.
// `.ts` files are transpiled one by one with the checkout's own TypeScript (types dropped, no
// type checking); everything else goes to the default loader.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

interface LoadResult {
  readonly format: string;
  readonly source: string;
  readonly shortCircuit?: boolean;
}

export async function load(url: string, context: unknown, nextLoad: (url: string, context: unknown) => Promise<LoadResult>): Promise<LoadResult> {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const out = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
