// The interfaces live in @spillway/model so the catalog can implement them without depending
// on any source's client library; sources import them from here.
export type { RegistrySource, ServiceEndpoints, SourceSink } from '@spillway/model';

/** Error from a source, typed so the catalog and the API can say which source and why. */
export class SourceError extends Error {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'SourceError';
  }
}
