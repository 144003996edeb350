import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '@spillway/config';

export interface TokenEntry {
  readonly name: string;
  readonly role: Role;
  /** Hex SHA-256 of the token; the token itself is never stored. */
  readonly sha256: string;
}

export interface Principal {
  readonly name: string;
  readonly role: Role;
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token: 32 bytes, base64url (what `spillway` prints and users paste). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What each role may do. A role grants its own rights and those below it; webhook is apart. */
const GRANTS: Readonly<Record<Role, readonly Role[]>> = {
  admin: ['admin', 'operator', 'viewer'],
  operator: ['operator', 'viewer'],
  viewer: ['viewer'],
  webhook: ['webhook'],
};

export function roleAllows(held: Role, needed: Role): boolean {
  return GRANTS[held].includes(needed);
}

/** Checks `Authorization: Bearer <token>` against configured hashes, in constant time. */
export class TokenAuthenticator {
  private readonly entries: { principal: Principal; digest: Buffer }[];

  constructor(tokens: readonly TokenEntry[]) {
    this.entries = tokens.map((token) => ({
      principal: { name: token.name, role: token.role },
      digest: Buffer.from(token.sha256, 'hex'),
    }));
  }

  get configured(): boolean {
    return this.entries.length > 0;
  }

  /** The principal the header's token belongs to, or undefined. */
  authenticate(authorization: string | undefined): Principal | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) return undefined;
    const digest = createHash('sha256').update(match[1], 'utf8').digest();
    // Compare against every entry so the time taken does not reveal which one matched.
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (entry.digest.length === digest.length && timingSafeEqual(entry.digest, digest)) found ??= entry.principal;
    }
    return found;
  }
}
