import type { z } from 'zod';
import { CorruptStateError } from './errors.js';
import type { StateSnapshot, StateStore } from './state-store.js';
import { parseStored, toStored } from './stored-json.js';

/**
 * StateStore for embedded mode. It keeps JSON text, not objects, so it behaves exactly like the
 * Redis store: callers get copies, and what does not survive JSON does not survive here either.
 */
export class InMemoryStateStore<S> implements StateStore<S> {
  constructor(
    private readonly schema: z.ZodType<S>,
    private readonly name = 'state',
    /** The backing texts: tests share one between two stores to simulate a schema change. */
    private readonly texts: Map<string, string> = new Map(),
  ) {}

  async get(service: string): Promise<S | undefined> {
    const raw = this.texts.get(service);
    return raw === undefined ? undefined : parseStored(this.schema, raw, `memory:${this.name}`, service);
  }

  async put(service: string, state: S): Promise<void> {
    this.texts.set(service, toStored(state, `state of ${service}`));
  }

  async delete(service: string): Promise<void> {
    this.texts.delete(service);
  }

  async all(): Promise<StateSnapshot<S>> {
    const states = new Map<string, S>();
    const corrupt: CorruptStateError[] = [];
    for (const service of this.texts.keys()) {
      try {
        const state = await this.get(service);
        if (state !== undefined) states.set(service, state);
      } catch (error) {
        if (!(error instanceof CorruptStateError)) throw error;
        corrupt.push(error);
      }
    }
    return { states, corrupt };
  }
}
