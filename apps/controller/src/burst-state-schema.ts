import { BURST_PHASES, type BurstState } from '@spillway/burst';
import { z } from 'zod';

// Loose objects: the core owns the shape; the door checks what it relies on and keeps the rest.
const Intent = z
  .looseObject({ burstId: z.string(), value: z.number(), seq: z.number(), satisfied: z.boolean(), mode: z.string() })
  .nullable();

/** A burst's cost meter (policies with `cost`): money is summed on, so it must be numbers. */
const CostMeter = z
  .looseObject({ total: z.number().min(0), hourly: z.number().min(0), accruedAt: z.number(), currency: z.string() })
  .nullish();

/** A burst's flap damping: its cooldown decides when the burst comes down, so it must be a number. */
const FlapDamping = z
  .looseObject({
    cooldownSeconds: z.number().positive(),
    steppedDownAt: z.number().nullable(),
    steppedDownTo: z.number(),
  })
  .nullish();

/**
 * The persisted burst state, checked at the door when read back from Redis: the shape the
 * decision core relies on. A state that fails it is reported as corrupt, not decided on.
 */
export const StoredBurstState = z
  .looseObject({
    phase: z.enum(BURST_PHASES),
    burst: z
      .looseObject({
        id: z.string(),
        share: z.number(),
        path: z.array(z.number()),
        cost: CostMeter,
        damping: FlapDamping,
      })
      .nullable(),
    lastShareChangeAt: z.number().nullable(),
    autoSuppressed: z.boolean(),
    seq: z.number().int(),
    intents: z.looseObject({ traffic: Intent, replicas: Intent, nodes: Intent }),
    dailySpending: z.looseObject({ day: z.string(), timeZone: z.string(), spent: z.number().min(0) }).optional(),
  })
  .transform((value) => value as unknown as BurstState);
