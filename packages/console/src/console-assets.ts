/** One built file of the console, served under /ui/assets/. */
export interface ConsoleAsset {
  readonly contentType: string;
  readonly body: string;
  /** A strong validator (hash of the body) for conditional GETs. */
  readonly etag: string;
}

/**
 * The console's built files by name (`app.js`, `app.css`, `shipped-drills.json`). In the
 * sources this is undefined: scripts/build-console.mjs builds the browser app and the build of
 * the `spillway` command puts the result here, so the files travel inside the one bundle and
 * nothing is read from disk or the network at run time.
 */
export const CONSOLE_ASSETS: ReadonlyMap<string, ConsoleAsset> | undefined = undefined;
