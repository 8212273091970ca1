import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where `ng build shell` puts the app, and what the gateway serves (STATIC_DIR). */
export const appDir = `${ROOT}dist/shell/browser`;
/** Screenshots and other artifacts (git-ignored). */
export const resultsDir = `${ROOT}test-results/e2e`;
