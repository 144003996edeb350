import { createHash } from 'node:crypto';
import type protobuf from 'protobufjs';

/**
 * One resource encoded once: the bytes go into every response that carries it, for every
 * client with the same view. `version` is a hash of the bytes, so "did it change?" is a
 * string compare (the Delta per-resource version, and the input of SotW type versions).
 */
export interface EncodedResource {
  readonly name: string;
  readonly typeUrl: string;
  readonly value: Uint8Array;
  readonly version: string;
}

export function encodeResource(type: protobuf.Type, typeUrl: string, name: string, message: object): EncodedResource {
  const value = encodeMessage(type, message);
  return { name, typeUrl, value, version: hashVersion(value) };
}

/** Converts a plain proto3-shaped object (snake_case, enum names as strings) and encodes it. */
export function encodeMessage(type: protobuf.Type, message: object): Uint8Array {
  const converted = type.fromObject(message);
  const problem = type.verify(converted);
  if (problem) throw new Error(`${type.fullName}: ${problem}`);
  return type.encode(converted).finish();
}

export function hashVersion(...parts: readonly (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('base64url').slice(0, 22);
}
