import { type CustomObject, CustomObjectWatch, type CustomObjectWatchOptions } from './custom-object-watch.js';
import { PassScheduler } from './pass-scheduler.js';

export interface CustomObjectPassesOptions extends Omit<CustomObjectWatchOptions, 'onChange'> {
  /** The whole cache after each change, before the pass that change asks for. */
  readonly onChange: (objects: ReadonlyMap<string, CustomObject>) => void;
  /** One pass over the objects (level-triggered: it reads what it needs, never the event). */
  readonly pass: () => Promise<void>;
  /** How often a pass is asked for without a change. */
  readonly intervalMs: number;
  /** Logged as a warning when a pass fails; the next pass tries again. */
  readonly passFailed: string;
}

/**
 * One kind of spillway.dev object, watched, and passes over it: every change and every
 * `intervalMs` ask for a pass, and passes run one at a time (PassScheduler).
 */
export class CustomObjectPasses {
  private readonly watch: CustomObjectWatch;
  private readonly passes: PassScheduler;

  constructor(options: CustomObjectPassesOptions) {
    const { onChange, pass, intervalMs, passFailed, ...watch } = options;
    this.passes = new PassScheduler(pass, {
      intervalMs,
      onError: (error) => options.logger.warn({ err: error }, passFailed),
    });
    this.watch = new CustomObjectWatch({
      ...watch,
      onChange: (objects) => {
        onChange(objects);
        this.passes.request();
      },
    });
  }

  /** The first list has arrived. */
  get synced(): boolean {
    return this.watch.synced;
  }

  start(): void {
    this.watch.start();
    this.passes.start();
  }

  /** The watch ends; resolves once the last pass is done. */
  async stop(): Promise<void> {
    await this.watch.stop();
    await this.passes.stop();
  }
}
