#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`; `npm start` and `npm install` build it).
// Stack traces point at the TypeScript sources through the build's source maps.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('spillway: not built yet: run `npm run build` in the repository first\n');
  process.exit(1);
}
process.setSourceMapsEnabled(true);
await import(main.href);
