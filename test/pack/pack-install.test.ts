/**
 * The packages as a user gets them (issue 15): `npm pack` every package, install the tarballs
 * into an empty app outside the repository (only the tarballs plus the registry's ordinary
 * dependencies, from the local npm cache when it has them), then run the README's library
 * example there — a host and a guest over a unix socket — type-checked with tsc first; the
 * envtest tarball's `envtest` command; and the exec tarball's `vsexec` command.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const sh = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
// Every package a user installs, in dependency order (the tarballs must satisfy each other's dependencies).
const PACKAGES = ['packages/errors', 'packages/wire', 'packages/vsock', 'packages/legacy', 'packages/engine', 'packages/trace', 'packages/exec', 'envtest'];
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

let work: string;
let app: string;
const tarballs: Record<string, string> = {};
const log = (l: string) => process.stderr.write(`[pack test] ${l}\n`);

/** The README's "library in one screen" code block. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The library in one screen'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md: no ```ts block under "The library in one screen"');
  return m[1]!;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vsock-rpc-pack-'));
  app = join(work, 'app');
  await mkdir(app);
  const dest = join(work, 'tarballs');
  await mkdir(dest);
  for (const p of PACKAGES) {
    log(`npm pack ${p}`);
    const { stdout } = await sh('npm', ['pack', '--json', '--pack-destination', dest, '--ignore-scripts'], { cwd: join(root, p) });
    const [info] = JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[];
    tarballs[info!.name] = join(dest, info!.filename);
    (tarballs as Record<string, unknown>)[`${info!.name}#files`] = info!.files.map((f) => f.path);
  }
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'pack-test-app', private: true, type: 'module' }, null, 2));
  log('npm install of the tarballs into an empty app (prefer-offline: the local npm cache first)');
  await sh(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...Object.entries(tarballs)
        .filter(([k]) => !k.endsWith('#files'))
        .map(([, v]) => v),
      '@types/node@^20.19.0',
    ],
    { cwd: app, timeout: 600_000 },
  );
}, 900_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('packed packages, installed outside the repository', () => {
  it('each tarball has its dist, types, README and LICENSE; none carries a prebuilt addon or build info', () => {
    for (const p of PACKAGES) {
      const name = p === 'envtest' ? 'envtest' : `@vsock-rpc/${p.split('/')[1]}`;
      const files = (tarballs as Record<string, unknown>)[`${name}#files`] as string[];
      expect(files, name).toContain('LICENSE');
      expect(files, name).toContain('README.md');
      expect(files, name).toContain('package.json');
      expect(
        files.some((f) => f === 'dist/index.js'),
        name,
      ).toBe(true);
      expect(
        files.some((f) => f === 'dist/index.d.ts'),
        name,
      ).toBe(true);
      expect(
        files.filter((f) => f.startsWith('build/') || f.endsWith('.node') || f.endsWith('.tsbuildinfo')),
        name,
      ).toEqual([]);
    }
  });

  it('the vsock addon was built from source by the install, on this machine', () => {
    const addon = join(app, 'node_modules', '@vsock-rpc', 'vsock', 'build', 'Release', 'vsock.node');
    expect(existsSync(addon)).toBe(true);
    expect(existsSync(join(app, 'node_modules', '@vsock-rpc', 'vsock', 'native', 'vsock.c'))).toBe(true);
  });

  it("runs the README's library example (host and guest over a unix socket), type-checked with tsc", async () => {
    const sock = join(work, 'example.sock');
    const code = (await readmeExample()).replaceAll("'vsock://any:11451'", `'unix://${sock}'`).replaceAll("'vsock://2:11451'", `'unix://${sock}'`);
    expect(code).toContain(`unix://${sock}`);
    // The README's block ends with the guest's call; close both ends so the program exits.
    const epilogue = "\nconsole.log('deltaNs', deltaNs);\nawait client.close();\nawait server.close();\n";
    await writeFile(join(app, 'example.ts'), code + epilogue);
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          outDir: 'out',
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['example.ts'],
      }),
    );
    log('tsc on the example');
    await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
    const { stdout } = await sh(process.execPath, ['out/example.js'], { cwd: app, timeout: 60_000 });
    expect(stdout).toContain('HELLO');
    expect(stdout).toContain('deltaNs 0');
  });

  it('the envtest tarball gives a working `envtest` command', async () => {
    const { stdout } = await sh(join(app, 'node_modules', '.bin', 'envtest'), ['client', '--help'], { cwd: app });
    expect(stdout).toMatch(/^Usage: envtest client/);
    const r = await sh(join(app, 'node_modules', '.bin', 'envtest'), [
      'client',
      '--connect',
      `unix://${join(work, 'none.sock')}`,
      '--connect-timeout',
      '0',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(1);
    expect((r as { stderr: string }).stderr).toContain('ENOENT');
  });

  it('the exec tarball gives a working `vsexec` command: the remote exit code over a unix socket', async () => {
    const vsexec = join(app, 'node_modules', '.bin', 'vsexec');
    const sock = `unix://${join(work, 'vsexec.sock')}`;
    const agent = spawn(vsexec, ['agent', '--listen', sock], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let log = '';
      agent.stderr.on('data', (d: Buffer) => (log += d.toString()));
      await new Promise<void>((resolve, reject) => {
        agent.stderr.on('data', () => log.includes('listening on') && resolve());
        agent.once('exit', (c) => reject(new Error(`vsexec agent exited with ${c}: ${log}`)));
      });
      const r = await sh(vsexec, ['run', '--connect', sock, '--', 'sh', '-c', 'echo out; exit 3']).catch((e: { code: number; stdout: string }) => e);
      expect(r).toMatchObject({ code: 3, stdout: 'out\n' });
    } finally {
      agent.kill('SIGTERM');
    }
  });
});
