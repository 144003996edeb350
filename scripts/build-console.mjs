// Builds the operator console (packages/console/ui, a small Preact app with uPlot charts) for the
// browser and hands the files to the app build, which puts them into the bundle in place of
// packages/console/src/console-assets.ts. So the console travels inside apps/spillway/dist and
// Spillway serves it with no file lookups and no network at run time. The shipped drills
// (infra/drills/*.yaml) go along as shipped-drills.json, for the console's drill picker.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const UI_ENTRY = join(ROOT, 'packages/console/ui/main.tsx');
const DRILLS = join(ROOT, 'infra/drills');
const ASSETS_MODULE = /packages[\\/]console[\\/]src[\\/]console-assets\.ts$/;

/** The browser app: one ES module and one stylesheet, minified, for current browsers. */
async function buildBrowserApp() {
  const result = await build({
    entryPoints: { app: UI_ENTRY },
    outdir: 'out',
    write: false,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  });
  const files = new Map();
  for (const file of result.outputFiles) {
    const name = file.path.split(/[\\/]/).pop();
    files.set(name, { contentType: contentTypeOf(name), body: file.text });
  }
  return files;
}

async function shippedDrills() {
  const names = (await readdir(DRILLS)).filter((name) => name.endsWith('.yaml')).sort();
  return Promise.all(names.map(async (file) => ({ file, yaml: await readFile(join(DRILLS, file), 'utf8') })));
}

function contentTypeOf(name) {
  if (name.endsWith('.js')) return 'text/javascript; charset=utf-8';
  if (name.endsWith('.css')) return 'text/css; charset=utf-8';
  return 'application/json; charset=utf-8';
}

export async function buildConsoleAssets() {
  const files = await buildBrowserApp();
  files.set('shipped-drills.json', {
    contentType: contentTypeOf('shipped-drills.json'),
    body: JSON.stringify({ drills: await shippedDrills() }),
  });
  const entries = [...files].map(([name, file]) => [
    name,
    { ...file, etag: `"${createHash('sha256').update(file.body).digest('base64url').slice(0, 27)}"` },
  ]);
  return new Map(entries);
}

/** esbuild plugin for the app build: the console's files replace the sources' placeholder. */
export const consoleAssetsPlugin = {
  name: 'console-assets',
  setup(esbuild) {
    let assets;
    esbuild.onLoad({ filter: ASSETS_MODULE }, async () => {
      assets ??= await buildConsoleAssets();
      const entries = JSON.stringify([...assets]);
      // Type-only imports of ConsoleAsset are erased, so plain JavaScript stands in for the module.
      return { loader: 'js', contents: `export const CONSOLE_ASSETS = new Map(${entries});\n` };
    });
  },
};
