import { ConfigError, parseConfig } from '../../src/index.js';

/** The lines of the ConfigError that parsing `text` as spillway.yaml throws (fails if it parses). */
export function problems(text: string): string[] {
  try {
    parseConfig(text, 'spillway.yaml', {});
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}
