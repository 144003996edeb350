import { z } from 'zod';
import { decodeCursor, encodeCursor, InvalidCursorError } from './cursor.js';
import type { FencingToken } from './fencing.js';

export const AuditKind = z.enum(['decision', 'action', 'signal', 'api', 'denial']);
export type AuditKind = z.infer<typeof AuditKind>;

/** One line of the audit trail: who did what, when and why. */
export const AuditEntry = z.object({
  at: z.iso.datetime({ offset: true }),
  actor: z.string().min(1),
  kind: AuditKind,
  service: z.string().optional(),
  burstId: z.string().optional(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/**
 * Retention classes. Each is its own capped stream, so the volume of one never evicts another:
 * a webhook flooding `signal` cannot push an operator's request (`operator`) or the controller's
 * decisions and actions (`decision`) out, and a flood of refused requests only fills `denial`.
 */
export const AuditClass = z.enum(['operator', 'decision', 'signal', 'denial']);
export type AuditClass = z.infer<typeof AuditClass>;
export const AUDIT_CLASSES: readonly AuditClass[] = AuditClass.options;

export function auditClassOf(kind: AuditKind): AuditClass {
  switch (kind) {
    case 'api':
      return 'operator';
    case 'decision':
    case 'action':
      return 'decision';
    case 'signal':
      return 'signal';
    case 'denial':
      return 'denial';
  }
}

/** The most entries each class keeps; the oldest go first. */
export type AuditCaps = Readonly<Record<AuditClass, number>>;
export const DEFAULT_AUDIT_CAPS: AuditCaps = { operator: 20_000, decision: 100_000, signal: 10_000, denial: 2_000 };

/** No stored entry serialises to more than this (UTF-8 bytes of its JSON). */
export const AUDIT_ENTRY_MAX_BYTES = 4096;
const MESSAGE_MAX_CHARS = 1000;
const FIELD_MAX_CHARS = 100;
const DETAILS_MAX_BYTES = 2048;
const PREVIEW_CHARS = 512;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [truncated ${text.length - max} chars]`;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * The entry as it is stored: a long message or field is cut with a `[truncated N chars]` marker,
 * details larger than 2 KiB become `{ truncated, bytes, preview }`. Alert labels and reasons
 * come from outside; without this one webhook post could write megabytes into the trail.
 */
export function boundAuditEntry(entry: AuditEntry): AuditEntry {
  const bounded: AuditEntry = {
    ...entry,
    actor: clip(entry.actor, FIELD_MAX_CHARS),
    message: clip(entry.message, MESSAGE_MAX_CHARS),
    ...(entry.service !== undefined ? { service: clip(entry.service, FIELD_MAX_CHARS) } : {}),
    ...(entry.burstId !== undefined ? { burstId: clip(entry.burstId, FIELD_MAX_CHARS) } : {}),
  };
  if (entry.details !== undefined) {
    const bytes = jsonBytes(entry.details);
    bounded.details =
      bytes <= DETAILS_MAX_BYTES
        ? entry.details
        : { truncated: true, bytes, preview: clip(JSON.stringify(entry.details), PREVIEW_CHARS) };
  }
  if (jsonBytes(bounded) <= AUDIT_ENTRY_MAX_BYTES) return bounded;
  // JSON escapes (control characters, quotes) can still inflate clipped text six-fold.
  const { details: _details, ...rest } = bounded;
  return {
    ...rest,
    message: clip(entry.message, FIELD_MAX_CHARS),
    ...(entry.details !== undefined ? { details: { truncated: true, bytes: jsonBytes(entry.details) } } : {}),
  };
}

export interface AuditQuery {
  service?: string;
  burstId?: string;
  /** ISO time: entries at or after it. */
  since?: string;
  /** Only these classes (default: all). */
  classes?: readonly AuditClass[];
  /** At most this many entries. */
  limit: number;
  /** Continue after the page that returned this `next`. */
  cursor?: string;
  /**
   * At most this many entries are looked at per call (default 5,000): a filter that matches
   * little answers a short page with a `next` instead of reading every class to the end.
   */
  maxScan?: number;
}

export interface AuditPage {
  /** Newest first, the classes merged in time order. */
  readonly entries: AuditEntry[];
  /** The cursor for the next (older) page; null when there is nothing older. */
  readonly next: string | null;
}

/** Every decision and action with its reason, in capped per-class streams; read newest first. */
export interface AuditLog {
  /** With `fence` (a leader's decision), refused (FencedWriteError) once the lease has moved on from it. */
  append(entry: AuditEntry, fence?: FencingToken): Promise<void>;
  page(query: AuditQuery): Promise<AuditPage>;
}

export function matchesAuditQuery(entry: AuditEntry, query: AuditQuery): boolean {
  if (query.service !== undefined && entry.service !== query.service) return false;
  if (query.burstId !== undefined && entry.burstId !== query.burstId) return false;
  return query.since === undefined || Date.parse(entry.at) >= Date.parse(query.since);
}

/**
 * Entries are appended in time order, so a newest-first scan may stop at the first entry older
 * than `since`. (Two writers' clocks may disagree by a little; the audit is for humans.)
 */
export function olderThanSince(entry: AuditEntry, query: AuditQuery): boolean {
  return query.since !== undefined && Date.parse(entry.at) < Date.parse(query.since);
}

/** A stream entry id, as Redis makes them: milliseconds and a sequence within the millisecond. */
export type StreamId = readonly [ms: number, seq: number];

export function compareStreamIds(a: StreamId, b: StreamId): number {
  return a[0] - b[0] || a[1] - b[1];
}

export interface StoredAuditEntry {
  readonly id: StreamId;
  readonly entry: AuditEntry;
}

/** Where a class's newest-first read resumes: before `id`, or at it too when inclusive. */
export interface StreamBound {
  readonly id: StreamId;
  readonly inclusive: boolean;
}

/** The per-class streams behind an AuditLog (Redis streams, or arrays in memory). */
export interface AuditStreams {
  /** Up to `count` entries of `cls`, newest first, older than `before` (all when null). */
  readBefore(cls: AuditClass, before: StreamBound | null, count: number): Promise<StoredAuditEntry[]>;
}

/** A position in the merged order: newest first by stream id, ties by class (last first). */
interface Position {
  readonly id: StreamId;
  readonly classIndex: number;
}

function comparePositions(a: Position, b: Position): number {
  return compareStreamIds(a.id, b.id) || a.classIndex - b.classIndex;
}

function decodeAuditCursor(text: string): Position {
  const [ms, seq, classIndex] = decodeCursor(text, ['number', 'number', 'number']) as number[];
  if (classIndex === undefined || classIndex < 0 || classIndex >= AUDIT_CLASSES.length) {
    throw new InvalidCursorError('not a cursor for this listing');
  }
  return { id: [ms ?? 0, seq ?? 0], classIndex };
}

/** One class's stream, read in chunks, newest first. */
class ClassReader {
  private buffer: StoredAuditEntry[] = [];
  private exhausted = false;

  constructor(
    private readonly streams: AuditStreams,
    readonly cls: AuditClass,
    readonly classIndex: number,
    private bound: StreamBound | null,
    private readonly chunk: number,
  ) {}

  async head(): Promise<StoredAuditEntry | undefined> {
    if (this.buffer.length === 0 && !this.exhausted) {
      const read = await this.streams.readBefore(this.cls, this.bound, this.chunk);
      if (read.length < this.chunk) this.exhausted = true;
      const last = read.at(-1);
      if (last) this.bound = { id: last.id, inclusive: false };
      this.buffer = read.reverse();
    }
    return this.buffer.at(-1);
  }

  take(): StoredAuditEntry | undefined {
    return this.buffer.pop();
  }

  finish(): void {
    this.buffer = [];
    this.exhausted = true;
  }
}

/**
 * One page of the merged classes, newest first. The cursor is the position of the last entry
 * looked at; each class resumes strictly after it in the merged order, so paging never repeats
 * or skips an entry, whichever classes the entries came from.
 */
export async function readAuditPage(streams: AuditStreams, query: AuditQuery): Promise<AuditPage> {
  const after = query.cursor === undefined ? null : decodeAuditCursor(query.cursor);
  const maxScan = query.maxScan ?? 5_000;
  const chunk = Math.min(500, Math.max(50, query.limit + 1));
  const readers = AUDIT_CLASSES.map((cls, classIndex) => {
    const bound = after === null ? null : { id: after.id, inclusive: classIndex < after.classIndex };
    return new ClassReader(streams, cls, classIndex, bound, chunk);
  }).filter((reader) => query.classes === undefined || query.classes.includes(reader.cls));
  const entries: AuditEntry[] = [];
  let scanned = 0;
  let last: Position | null = null;
  for (;;) {
    const newest = await newestHead(readers);
    if (newest === undefined) return { entries, next: null };
    if (entries.length >= query.limit || scanned >= maxScan) return { entries, next: last && encodePosition(last) };
    const { reader, stored } = newest;
    reader.take();
    scanned++;
    last = { id: stored.id, classIndex: reader.classIndex };
    if (olderThanSince(stored.entry, query)) reader.finish();
    else if (matchesAuditQuery(stored.entry, query)) entries.push(stored.entry);
  }
}

async function newestHead(
  readers: readonly ClassReader[],
): Promise<{ reader: ClassReader; stored: StoredAuditEntry } | undefined> {
  let newest: { reader: ClassReader; stored: StoredAuditEntry } | undefined;
  for (const reader of readers) {
    const stored = await reader.head();
    if (stored === undefined) continue;
    const position = { id: stored.id, classIndex: reader.classIndex };
    if (!newest || comparePositions(position, { id: newest.stored.id, classIndex: newest.reader.classIndex }) > 0) {
      newest = { reader, stored };
    }
  }
  return newest;
}

function encodePosition(position: Position): string {
  return encodeCursor([position.id[0], position.id[1], position.classIndex]);
}
