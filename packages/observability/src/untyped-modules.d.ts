// pino-roll ships no types: the part of its API Spillway uses (see its pino-roll.js JSDoc).
declare module 'pino-roll' {
  import type { SonicBoom, SonicBoomOpts } from 'sonic-boom';

  interface PinoRollOptions extends Omit<SonicBoomOpts, 'dest'> {
    /** Base path; the file number (and `extension`) is appended: `up` → `up.3.log`. */
    readonly file: string;
    /** Roll when the current file reaches this size (`10m`, `512k`; a number is MB). */
    readonly size?: string | number;
    readonly extension?: string;
    /** Keep `count` files besides the current one; `removeOtherLogFiles` also prunes earlier runs'. */
    readonly limit?: { readonly count?: number; readonly removeOtherLogFiles?: boolean };
    /** Keep `current.log` beside the files, linked to the file in use. */
    readonly symlink?: boolean;
  }

  export default function build(options: PinoRollOptions): Promise<SonicBoom>;
}
