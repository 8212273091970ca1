/** Types of `chromium.js` for the TypeScript tests that launch the browser. */
export declare const CHROMIUM_PATH: string;
export declare const CHROMIUM_FLAGS: readonly string[];
