import { createHash } from 'node:crypto';
import type { EncodedResource } from './encoded-resource.js';

/** 128 bits in four 32-bit lanes: a name-and-version pair's hash, or a sum of them. */
type Lanes = Int32Array;

/** Each encoded resource's fingerprint, computed once however many streams hold it. */
const fingerprints = new WeakMap<EncodedResource, Lanes>();

/**
 * Name → version of a set of resources (what a stream's client holds, or should hold), with a
 * version for the whole set that is kept up to date as entries come and go: the lane-wise sum
 * (mod 2³²) of a SHA-256 of each entry's name and version. A change costs one entry's add and
 * subtract, not a hash over every resource in the set; the version depends only on the
 * content, not on the order it was built in, so a restarted router (or another router
 * behind the same address) gives the same set the same version.
 */
export class VersionSet {
  private readonly entries = new Map<string, { readonly version: string; readonly fingerprint: Lanes }>();
  private readonly sum = new Int32Array(4);

  get size(): number {
    return this.entries.size;
  }

  get(name: string): string | undefined {
    return this.entries.get(name)?.version;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Holds `resource` at its version (its fingerprint is shared with every other holder). */
  setResource(resource: EncodedResource): void {
    let fingerprint = fingerprints.get(resource);
    if (!fingerprint) {
      fingerprint = fingerprintOf(resource.name, resource.version);
      fingerprints.set(resource, fingerprint);
    }
    this.put(resource.name, resource.version, fingerprint);
  }

  /** Holds `name` at a version the client stated (Delta `initial_resource_versions`). */
  set(name: string, version: string): void {
    if (this.entries.get(name)?.version === version) return;
    this.put(name, version, fingerprintOf(name, version));
  }

  delete(name: string): boolean {
    const entry = this.entries.get(name);
    if (!entry) return false;
    this.entries.delete(name);
    subtract(this.sum, entry.fingerprint);
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.sum.fill(0);
  }

  /** The whole set's version: 22 base64url characters, as the resources' own versions. */
  version(): string {
    return Buffer.from(this.sum.buffer, this.sum.byteOffset, 16).toString('base64url');
  }

  private put(name: string, version: string, fingerprint: Lanes): void {
    const previous = this.entries.get(name);
    if (previous) subtract(this.sum, previous.fingerprint);
    this.entries.set(name, { version, fingerprint });
    for (let lane = 0; lane < 4; lane++) this.sum[lane] = (this.sum[lane]! + fingerprint[lane]!) | 0;
  }
}

function subtract(sum: Lanes, fingerprint: Lanes): void {
  for (let lane = 0; lane < 4; lane++) sum[lane] = (sum[lane]! - fingerprint[lane]!) | 0;
}

function fingerprintOf(name: string, version: string): Lanes {
  const digest = createHash('sha256').update(name).update('\0').update(version).digest();
  return new Int32Array(digest.buffer.slice(digest.byteOffset, digest.byteOffset + 16));
}
