// Bundles one app's TypeScript entry point and the workspace packages it imports into
// JavaScript under the app's dist/, so processes run compiled code on plain Node. Third-party
// packages stay external: they load from node_modules exactly as they would unbundled (native
// addons, .proto files and worker scripts found relative to their own package). Dynamic
// import() keeps its own chunk, so `spillway status` does not load what only `up` needs.
// Usage (from an app's directory, as its `build` script): node ../../scripts/build-app.mjs src/main.ts
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { consoleAssetsPlugin } from './build-console.mjs';

const WORKSPACE_SCOPE = '@spillway/';

/** Bare imports outside the workspace scope are left to Node at run time. */
const externalThirdParty = {
  name: 'external-third-party',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith(WORKSPACE_SCOPE) ? undefined : { path: args.path, external: true },
    );
  },
};

/**
 * A workspace file that finds a file next to itself (`new URL('./x', import.meta.url)`) would
 * look next to the bundle instead: refuse to build it. (`createRequire(import.meta.url)`, which
 * resolves packages from node_modules, is unaffected.)
 */
const noFilesRelativeToSource = {
  name: 'no-files-relative-to-source',
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const lines = source.split('\n');
      const line = lines.findIndex((text) => /new URL\([^)]*import\.meta\.url/.test(text));
      if (line < 0) return undefined;
      return {
        errors: [
          {
            text: 'a file found relative to its source moves when bundled: pass the path in, or ship it another way',
            location: { file: args.path, line: line + 1, lineText: lines[line] },
          },
        ],
      };
    });
  },
};

/**
 * `import text from './file.yml?raw'` (as Vite, which runs the tests, does natively): the file's
 * text in the bundle, so a command needs no file beside it at run time (the PrometheusRule that
 * `spillway manifests` prints carries infra/prometheus/*.yml this way).
 */
const rawText = {
  name: 'raw-text',
  setup(esbuild) {
    esbuild.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)),
      namespace: 'raw-text',
    }));
    esbuild.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
    }));
  },
};

const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: build-app.mjs ENTRY.ts (run from the app directory)\n');
  process.exit(2);
}

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: [entry],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: 'linked',
  plugins: [externalThirdParty, consoleAssetsPlugin, noFilesRelativeToSource, rawText],
  logLevel: 'warning',
}).catch(() => process.exit(1)); // esbuild has printed the errors
