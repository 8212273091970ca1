/**
 * Builds the app once when dist/shell/browser is missing or older than its sources (the app, the library,
 * the protocol). A lock directory keeps two test files from building at the same time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, appDir } from './paths.ts';

// The build's inputs: the sources, and angular.json's build options (a changed option must rebuild too).
const SOURCES = ['projects/shell/src', 'projects/shell/public', 'projects/realtime/src', 'projects/protocol/src', 'angular.json'];

function newestSource(dir: string): number {
  if (statSync(dir).isFile()) return statSync(dir).mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function upToDate(): boolean {
  const index = join(appDir, 'index.html');
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  return SOURCES.every((dir) => !existsSync(join(ROOT, dir)) || newestSource(join(ROOT, dir)) <= built);
}

export async function ensureAppBuilt(): Promise<void> {
  if (upToDate()) return;
  const lock = join(ROOT, 'test-results', '.e2e-build.lock');
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  for (let waited = 0; ; waited += 250) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 120_000) throw new Error(`e2e: ${lock} held for 2 minutes; remove it if no build is running`);
      await sleep(250); // another test file is building: wait for it, then check again
      if (upToDate()) return;
    }
  }
  try {
    if (upToDate()) return;
    const ng = join(ROOT, 'node_modules', '.bin', 'ng');
    const result = spawnSync(ng, ['build', 'shell'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NG_CLI_ANALYTICS: 'false' } });
    if (result.status !== 0) throw new Error(`e2e: ng build shell failed (exit ${result.status})`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
