import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, type EncodedResource, hashVersion } from '../src/index.js';
import { base64urlOfLanes, VersionSet } from '../src/version-set.js';

const resource = (name: string, content: string): EncodedResource => {
  const value = Buffer.from(content);
  return { name, typeUrl: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, value, version: hashVersion(value) };
};

/** name → content; each step sets or deletes one name. */
const steps = fc.array(
  fc.record({ name: fc.constantFrom('a.ns', 'b.ns', 'c.ns', 'd.ns'), content: fc.option(fc.string({ maxLength: 3 })) }),
  { maxLength: 40 },
);

describe('VersionSet: a set version kept entry by entry', () => {
  it('equals the version of the same content built at once, in any order', () => {
    fc.assert(
      fc.property(steps, (changes) => {
        const incremental = new VersionSet();
        const final = new Map<string, string>();
        for (const { name, content } of changes) {
          if (content === null) {
            incremental.delete(name);
            final.delete(name);
          } else {
            incremental.setResource(resource(name, content));
            final.set(name, content);
          }
        }
        const rebuilt = new VersionSet();
        for (const [name, content] of [...final].reverse()) rebuilt.setResource(resource(name, content));
        expect(incremental.version()).toBe(rebuilt.version());
        expect(incremental.size).toBe(final.size);
      }),
    );
  });

  it('moves when any one entry changes, is added or goes, and comes back with the content', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (names, pick) => {
          const set = new VersionSet();
          for (const name of names) set.setResource(resource(name, `v1 ${name}`));
          const before = set.version();
          const name = names[pick % names.length]!;
          set.setResource(resource(name, `v2 ${name}`));
          const changed = set.version();
          expect(changed).not.toBe(before);
          set.delete(name);
          expect(set.version()).not.toBe(changed);
          expect(set.version()).not.toBe(before);
          set.setResource(resource(name, `v1 ${name}`));
          expect(set.version()).toBe(before);
        },
      ),
    );
  });

  it('treats a version the client stated like the same version sent by the router', () => {
    const sent = resource('echo.demo', 'bytes');
    const byRouter = new VersionSet();
    byRouter.setResource(sent);
    const stated = new VersionSet();
    stated.set('echo.demo', sent.version);
    expect(stated.version()).toBe(byRouter.version());
    expect(stated.get('echo.demo')).toBe(sent.version);
  });
});

describe('base64urlOfLanes', () => {
  it('is what Buffer writes for the same 16 bytes', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), fc.integer(), fc.integer(), (a, b, c, d) => {
        const lanes = Int32Array.of(a, b, c, d);
        const expected = Buffer.from(lanes.buffer).toString('base64url');
        expect(base64urlOfLanes(a | 0, b | 0, c | 0, d | 0)).toBe(expected);
      }),
    );
  });
});
