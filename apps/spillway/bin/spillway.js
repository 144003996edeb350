#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`; `npm start` and `npm install` build it).
// Stack traces point at the TypeScript sources through the build's source maps.
import { existsSync } from 'node:fs';

const NODE_FLOOR = 22;
if (Number(process.versions.node.split('.')[0]) < NODE_FLOOR) {
  process.stderr.write(
    `spillway: needs Node ${NODE_FLOOR} or newer, this is ${process.version}. Run it through npm ` +
      '(`npm start`, `npx spillway`), which uses the Node the repository pins (node_modules/.bin/node)\n',
  );
  process.exit(1);
}

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('spillway: not built yet: run `npm run build` in the repository first\n');
  process.exit(1);
}
process.setSourceMapsEnabled(true);
await import(main.href);
