// The gateway's own code (./gateway-code.ts) for the bench's processes, which run as plain
// `node` (no TypeScript loader in a load generator or a baseline server): esbuild emits it once as
// a small ES module, its packages left to node_modules, and it is emitted again only when one of
// its sources is newer than the bundle. The first process of a run (the orchestrator) builds it;
// the processes it starts find it current.
import { readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = 'bench/lib/gateway-code.ts';
const BUNDLE = join(ROOT, 'dist', 'bench', 'gateway-code.mjs');
const META = `${BUNDLE}.meta.json`;

/** Whether the bundle exists and no source it was built from changed since. */
function isCurrent() {
  try {
    const built = statSync(BUNDLE).mtimeMs;
    /** @type {{ inputs: Record<string, unknown> }} */
    const meta = JSON.parse(readFileSync(META, 'utf8'));
    const sources = [fileURLToPath(import.meta.url), ...Object.keys(meta.inputs).map((input) => join(ROOT, input))];
    return sources.every((source) => statSync(source).mtimeMs <= built);
  } catch {
    return false;
  }
}

async function build() {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: 'gateway/tsconfig.json',
    packages: 'external',
    write: false,
    metafile: true,
    outfile: BUNDLE,
    logLevel: 'warning',
  });
  await esbuild.stop(); // its service process would otherwise live as long as this one
  mkdirSync(dirname(BUNDLE), { recursive: true });
  // Written aside and renamed: a process reading the bundle meanwhile sees the old one or the new one, whole.
  const suffix = `.${process.pid}.tmp`;
  writeFileSync(META + suffix, JSON.stringify(result.metafile));
  writeFileSync(BUNDLE + suffix, /** @type {import('esbuild').OutputFile} */ (result.outputFiles[0]).contents);
  renameSync(META + suffix, META);
  renameSync(BUNDLE + suffix, BUNDLE);
}

if (!isCurrent()) await build();

/** @type {typeof import('./gateway-code.ts')} */
const gateway = await import(pathToFileURL(BUNDLE).href);
export const { compareEventIds, secretKey, signAccessToken, toRoomEvent } = gateway;
