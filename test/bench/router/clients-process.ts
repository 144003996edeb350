import { type ChildProcess, fork } from 'node:child_process';
import type { ClientStats, Command, Reply } from './messages.js';

/** The clients process (clients.ts) and its request/answer plumbing, seen from a server process. */
export class Clients {
  private readonly child: ChildProcess;
  private readonly waiters = new Map<string, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private seq = 0;

  constructor() {
    this.child = fork(new URL('./clients.ts', import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
    });
    this.child.on('message', (reply: Reply) => {
      if (reply.kind === 'failed') {
        for (const [id, waiter] of this.waiters) {
          if (id.startsWith(`${reply.seq}/`)) {
            this.waiters.delete(id);
            waiter.reject(new Error(`clients: ${reply.error}`));
          }
        }
        return;
      }
      const waiter = this.waiters.get(`${reply.seq}/${reply.kind}`);
      this.waiters.delete(`${reply.seq}/${reply.kind}`);
      waiter?.resolve(reply);
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.waiters.values()) waiter.reject(new Error(`clients process exited (${code})`));
      this.waiters.clear();
    });
  }

  /** Sends a command; returns its sequence number, which its answers carry. */
  send(command: DistributiveOmit<Command, 'seq'>): number {
    const seq = ++this.seq;
    this.child.send({ ...command, seq } as Command);
    return seq;
  }

  /**
   * The answer of kind `kind` to command `seq`, within `timeoutMs`. Call it in the same tick as
   * `send`: answers arrive through IPC, so never before the waiter is registered.
   */
  answer<K extends Reply['kind']>(seq: number, kind: K, timeoutMs: number): Promise<Extract<Reply, { kind: K }>> {
    return new Promise((resolve, reject) => {
      const id = `${seq}/${kind}`;
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`clients: no "${kind}" answer to command ${seq} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply as Extract<Reply, { kind: K }>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  async ask<K extends Reply['kind']>(
    command: DistributiveOmit<Command, 'seq'>,
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<Reply, { kind: K }>> {
    return this.answer(this.send(command), kind, timeoutMs);
  }

  async stats(): Promise<ClientStats> {
    return (await this.ask({ kind: 'stats' }, 'stats', 10_000)).stats;
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
