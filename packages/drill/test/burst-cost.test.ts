import { describe, expect, it } from 'vitest';
import { costOfBursts } from '../src/burst-cost.js';

const at = (minutes: number) => new Date(Date.UTC(2026, 5, 1, 12, minutes)).toISOString();
const burst = (id: string, from: number, to: number, cost: unknown) => ({
  id,
  service: 'echo.demo',
  createdAt: at(from),
  updatedAt: at(to),
  active: false,
  cost,
});
const priced = (total: number, currency = 'USD') => ({ total, hourly: 0, currency, perBurstBudget: null });

describe('costOfBursts', () => {
  const since = Date.parse(at(10));
  const until = Date.parse(at(20));

  it('sums the bursts active during the window, oldest first', () => {
    const records = [
      burst('after', 21, 30, priced(5)),
      burst('through', 15, 25, priced(2.5)),
      burst('before', 0, 9, priced(7)),
      burst('into', 5, 12, priced(1)),
    ];
    expect(costOfBursts(records, since, until)).toEqual({
      total: 3.5,
      currency: 'USD',
      bursts: [
        { id: 'into', total: 1 },
        { id: 'through', total: 2.5 },
      ],
    });
  });

  it('is null without prices or bursts, and leaves out another currency than the newest', () => {
    expect(costOfBursts([], since, until)).toBeNull();
    expect(costOfBursts([burst('free', 11, 12, null), { id: 'old record' }], since, until)).toBeNull();
    const mixed = costOfBursts([burst('a', 11, 12, priced(3, 'EUR')), burst('b', 13, 14, priced(4))], since, until);
    expect(mixed).toEqual({ total: 4, currency: 'USD', bursts: [{ id: 'b', total: 4 }] });
  });
});
