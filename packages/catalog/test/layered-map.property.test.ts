import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LayeredMap } from '../src/layered-map.js';

const step = fc.record({
  set: fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer()), { maxLength: 6 }),
  remove: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 4 }),
});

describe('LayeredMap (properties)', () => {
  it('behaves like a copied Map at every version, and old versions never change', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (steps, maxOverlay) => {
        let layered = LayeredMap.empty<number, number>(maxOverlay);
        let reference = new Map<number, number>();
        const history: [LayeredMap<number, number>, Map<number, number>][] = [];
        for (const { set, remove } of steps) {
          const setMap = new Map(set);
          const removals = remove.filter((key) => !setMap.has(key));
          layered = layered.derive(setMap, removals);
          reference = new Map(reference);
          for (const key of removals) reference.delete(key);
          for (const [key, value] of setMap) reference.set(key, value);
          history.push([layered, reference]);
        }
        for (const [version, expected] of history) {
          expect(version.size).toBe(expected.size);
          expect(new Map(version)).toEqual(expected);
          for (let key = 0; key <= 30; key++) {
            expect(version.get(key)).toBe(expected.get(key));
            expect(version.has(key)).toBe(expected.has(key));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
