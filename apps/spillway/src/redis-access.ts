import type { SpillwayConfig } from '@spillway/config';
import type { RedisAccess } from '@spillway/controller';
import { readCaBundle, TlsFilesError } from '@spillway/tls';
import { CliError } from './load-config.js';

/**
 * How this process reaches the config's Redis besides its URL: the password from the environment
 * variable `redisPasswordEnv` names, and the CA bundle `redisCaFile` (for `rediss://`). Problems
 * stop the start with one line (exit 2); the password itself is never part of it.
 */
export function redisAccessFromConfig(config: SpillwayConfig, env: NodeJS.ProcessEnv = process.env): RedisAccess {
  const url = config.redis ?? '';
  let password: string | undefined;
  if (config.redisPasswordEnv !== undefined) {
    password = env[config.redisPasswordEnv];
    if (!password)
      throw new CliError(`redisPasswordEnv: the environment variable ${config.redisPasswordEnv} is not set`, 2);
  }
  if (config.redisCaFile === undefined) return { password };
  if (!/^rediss:\/\//i.test(url)) {
    throw new CliError('redisCaFile is set but redis is not a rediss:// URL: Redis would be reached without TLS', 2);
  }
  try {
    return { password, ca: readCaBundle(config.redisCaFile) };
  } catch (error) {
    if (error instanceof TlsFilesError) throw new CliError(`redisCaFile: ${error.message}`, 2);
    throw error;
  }
}
