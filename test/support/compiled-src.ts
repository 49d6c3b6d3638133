import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

declare module 'vitest' {
  export interface ProvidedContext {
    /** src/ as JavaScript (compileSrc), written once per run by global-setup.ts. */
    compiledSrc?: string;
  }
}

/**
 * src/ transpiled to plain JavaScript once per run, for the tests that start keyturn or its CLI as a separate
 * process. `node --import tsx` compiles every module again in each process (about 2 s of CPU each, and the
 * CLI tests start over a hundred); the same code as JavaScript starts in about 0.2 s. It is what `npm run
 * build` makes too (a person runs dist/, not src/), without type checking, which `tsc` does separately.
 *
 * The directory sits directly in the package root, like dist/, so the paths src resolves against its own
 * location (migrations/, package.json) and its imports of node_modules resolve the same.
 */
/** A run killed before its teardown leaves its build behind; one whose process is gone is removed here. */
function removeOrphans(root: string) {
  for (const name of readdirSync(root)) {
    const pid = /^\.test-build-(\d+)$/.exec(name)?.[1];
    if (!pid || Number(pid) === process.pid) continue;
    try {
      process.kill(Number(pid), 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(root, name), { recursive: true, force: true });
    }
  }
}

export function compileSrc(root: string): { dir: string; remove(): void } {
  removeOrphans(root);
  const dir = join(root, `.test-build-${process.pid}`);
  const src = join(root, 'src');
  const walk = (at: string): string[] =>
    readdirSync(at, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(at, e.name)) : e.name.endsWith('.ts') ? [join(at, e.name)] : []));
  for (const file of walk(src)) {
    const out = join(dir, relative(src, file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, esModuleInterop: true, isolatedModules: true },
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
