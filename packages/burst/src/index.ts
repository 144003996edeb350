export * from './capacity.js';
export { committedShare } from './context.js';
export { decide, initialBurstState } from './decide.js';
export * from './forecast.js';
export { automaticBurstId, formatShare } from './format.js';
export * from './lead-time.js';
export * from './measured-share.js';
export * from './signal-level.js';
export * from './types.js';
