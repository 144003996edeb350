import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ConfigError } from './errors.js';
import { parseConfig } from './load.js';
import type { SpillwayConfig } from './schema.js';

export type ConfigReload =
  | { readonly ok: true; readonly file: string; readonly config: SpillwayConfig; readonly trigger: ReloadTrigger }
  | { readonly ok: false; readonly file: string; readonly error: ConfigError; readonly trigger: ReloadTrigger };

/** What asked for the reload: the file changed on disk, or someone asked (SIGHUP). */
export type ReloadTrigger = 'file' | 'signal';

const DEFAULT_DEBOUNCE_MS = 250;

export interface ConfigFileWatcherOptions {
  readonly file: string;
  /** The file's text the process started with: a change back to it is no change. */
  readonly initialText?: string;
  /** Quiet time after the last file event before the file is read (editors write in bursts). */
  readonly debounceMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Reads the file (tests script what a reader sees while a writer is half done). */
  readonly readText?: (file: string) => Promise<string>;
  readonly onReload: (reload: ConfigReload) => void | Promise<void>;
}

/**
 * Watches a config file and reads it again when it changes (debounced) or when `reload()` is
 * called (SIGHUP). It watches the file's directory, not the file: editors save by renaming a new
 * file over the old one, and a Kubernetes ConfigMap volume swaps a `..data` symlink, and both
 * leave a watch on the old inode deaf. A file event whose text is the same as the last one read
 * is ignored; a signal always reloads. Reloads never overlap.
 *
 * A file event is acted on only once the text holds still: it is read again one debounce
 * later, and if it moved the writer is not done (a shell's `>` or a plain writeFile truncates,
 * then writes) and the reload waits for the next quiet spell. Read half-written, a file that is
 * still valid YAML would have been applied without the policies still to come.
 */
export class ConfigFileWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastHash: string | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: ConfigFileWatcherOptions) {
    if (options.initialText !== undefined) this.lastHash = hash(options.initialText);
  }

  /** Starts watching; the text read now is the baseline for later file events. */
  async start(): Promise<void> {
    this.lastHash ??= hash(await readFile(this.options.file, 'utf8').catch(() => ''));
    const name = basename(this.options.file);
    this.watcher = watch(dirname(this.options.file), { persistent: false }, (_event, changed) => {
      // Any entry of a ConfigMap volume may be the one that moved (`..data`): look at the file.
      if (changed === null || changed === name || changed.startsWith('..')) this.schedule();
    });
    this.watcher.on('error', () => this.schedule());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.close();
  }

  /** Reads the file now (SIGHUP); resolves when this reload has been handed to `onReload`. */
  reload(trigger: ReloadTrigger = 'signal'): Promise<void> {
    const reload = this.running.then(() => this.readAndReport(trigger));
    // One failed reload must not stop the next ones.
    this.running = reload.catch(() => undefined);
    return reload;
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // onReload reports its own failures; a rejection here has nobody left to tell.
    this.timer = setTimeout(
      () => this.reload('file').catch(() => undefined),
      this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    );
  }

  private read(): Promise<string> {
    return (this.options.readText ?? ((file) => readFile(file, 'utf8')))(this.options.file);
  }

  /** The same text one debounce later: the writer is done. */
  private async holdsStill(text: string): Promise<boolean> {
    await delay(this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    return !this.stopped && (await this.read()) === text;
  }

  private async readAndReport(trigger: ReloadTrigger): Promise<void> {
    if (this.stopped) return;
    const { file, env, onReload } = this.options;
    let text: string;
    try {
      text = await this.read();
      if (trigger === 'file' && !(await this.holdsStill(text))) {
        this.schedule();
        return;
      }
    } catch (error) {
      const problem = { path: '', message: `cannot read the file: ${(error as Error).message}` };
      await onReload({ ok: false, file, error: new ConfigError(file, [problem]), trigger });
      return;
    }
    const digest = hash(text);
    if (trigger === 'file' && digest === this.lastHash) return;
    this.lastHash = digest;
    try {
      await onReload({ ok: true, file, config: parseConfig(text, file, env ?? process.env), trigger });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      await onReload({ ok: false, file, error, trigger });
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
