export { describeFailure } from './load-config.js';
