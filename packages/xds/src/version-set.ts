import { createHash } from 'node:crypto';
import type { EncodedResource } from './encoded-resource.js';

/** 128 bits in four 32-bit lanes: a name-and-version pair's hash. */
type Lanes = Int32Array;

/** Each encoded resource's fingerprint, computed once however many streams hold it. */
const fingerprints = new WeakMap<EncodedResource, Lanes>();

/** One held name; updated in place when its version moves (no new object, one map lookup). */
interface Held {
  version: string;
  fingerprint: Lanes;
}

/**
 * Name → version of a set of resources (what a stream's client holds, or should hold), with a
 * version for the whole set that is kept up to date as entries come and go: the lane-wise sum
 * (mod 2³²) of a SHA-256 of each entry's name and version. A change costs one entry's add and
 * subtract, not a hash over every resource in the set; the version depends only on the
 * content, not on the order it was built in, so a restarted router (or another router
 * behind the same address) gives the same set the same version.
 *
 * A change touches every watching stream's set, thousands per change at fleet scale, so the
 * sum lives in four number fields of this object (not a typed array with memory of its own)
 * and the version string is built here and kept until the set moves again.
 */
export class VersionSet {
  private readonly entries = new Map<string, Held>();
  private lane0 = 0;
  private lane1 = 0;
  private lane2 = 0;
  private lane3 = 0;
  /** `version()` until the next change. */
  private cachedVersion: string | undefined;

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
    this.hold(resource);
  }

  /** Holds `resource`: whether it was held at that version already, at another, or not at all. */
  hold(resource: EncodedResource): 'same' | 'moved' | 'added' {
    const held = this.entries.get(resource.name);
    if (held?.version === resource.version) return 'same';
    this.put(held, resource.name, resource.version, fingerprintOfResource(resource));
    return held ? 'moved' : 'added';
  }

  /** Holds `name` at a version the client stated (Delta `initial_resource_versions`). */
  set(name: string, version: string): void {
    const held = this.entries.get(name);
    if (held?.version === version) return;
    this.put(held, name, version, fingerprintOf(name, version));
  }

  delete(name: string): boolean {
    const held = this.entries.get(name);
    if (!held) return false;
    this.entries.delete(name);
    this.add(held.fingerprint, -1);
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.lane0 = this.lane1 = this.lane2 = this.lane3 = 0;
    this.cachedVersion = undefined;
  }

  /** The whole set's version: 22 base64url characters, as the resources' own versions. */
  version(): string {
    this.cachedVersion ??= base64urlOfLanes(this.lane0, this.lane1, this.lane2, this.lane3);
    return this.cachedVersion;
  }

  private put(held: Held | undefined, name: string, version: string, fingerprint: Lanes): void {
    if (held) {
      this.add(held.fingerprint, -1);
      held.version = version;
      held.fingerprint = fingerprint;
    } else {
      this.entries.set(name, { version, fingerprint });
    }
    this.add(fingerprint, 1);
  }

  /** Adds (sign 1) or subtracts (sign -1) a fingerprint, lane by lane, mod 2³². */
  private add(fingerprint: Lanes, sign: 1 | -1): void {
    this.lane0 = (this.lane0 + sign * fingerprint[0]!) | 0;
    this.lane1 = (this.lane1 + sign * fingerprint[1]!) | 0;
    this.lane2 = (this.lane2 + sign * fingerprint[2]!) | 0;
    this.lane3 = (this.lane3 + sign * fingerprint[3]!) | 0;
    this.cachedVersion = undefined;
  }
}

function fingerprintOfResource(resource: EncodedResource): Lanes {
  let fingerprint = fingerprints.get(resource);
  if (!fingerprint) {
    fingerprint = fingerprintOf(resource.name, resource.version);
    fingerprints.set(resource, fingerprint);
  }
  return fingerprint;
}

function fingerprintOf(name: string, version: string): Lanes {
  const digest = createHash('sha256').update(name).update('\0').update(version).digest();
  return new Int32Array(digest.buffer.slice(digest.byteOffset, digest.byteOffset + 16));
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VERSION_BYTES = new Uint8Array(16);
const VERSION_LANES = new Int32Array(VERSION_BYTES.buffer);
const VERSION_CHARS: number[] = new Array(22).fill(0);

/**
 * The lanes' 16 bytes (in the platform's order, as an Int32Array holds them) in unpadded
 * base64url, written here rather than with Buffer#toString: that call crosses into C++ for
 * 16 bytes, once per stream per change. The same string, byte for byte (tested).
 */
export function base64urlOfLanes(lane0: number, lane1: number, lane2: number, lane3: number): string {
  VERSION_LANES[0] = lane0;
  VERSION_LANES[1] = lane1;
  VERSION_LANES[2] = lane2;
  VERSION_LANES[3] = lane3;
  let out = 0;
  for (let i = 0; i < 15; i += 3) {
    const triple = (VERSION_BYTES[i]! << 16) | (VERSION_BYTES[i + 1]! << 8) | VERSION_BYTES[i + 2]!;
    VERSION_CHARS[out++] = BASE64URL.charCodeAt((triple >>> 18) & 63);
    VERSION_CHARS[out++] = BASE64URL.charCodeAt((triple >>> 12) & 63);
    VERSION_CHARS[out++] = BASE64URL.charCodeAt((triple >>> 6) & 63);
    VERSION_CHARS[out++] = BASE64URL.charCodeAt(triple & 63);
  }
  const last = VERSION_BYTES[15]!;
  VERSION_CHARS[out++] = BASE64URL.charCodeAt(last >>> 2);
  VERSION_CHARS[out] = BASE64URL.charCodeAt((last & 3) << 4);
  return String.fromCharCode(...VERSION_CHARS);
}
