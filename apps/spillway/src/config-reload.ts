import { ConfigFileWatcher } from '@spillway/config';
import type { RunningController } from '@spillway/controller';
import type { Logger } from '@spillway/observability';

/**
 * Reloads the config file into a running controller when the file changes or the process gets
 * SIGHUP (docs/operations.md#config-reload). Returns the stop function.
 */
export async function reloadConfigOnChange(
  file: string,
  controller: RunningController,
  logger: Logger,
): Promise<() => void> {
  const watcher = new ConfigFileWatcher({ file, onReload: (reload) => controller.reloads.apply(reload) });
  await watcher.start();
  const onHangup = () => {
    logger.info({ file }, 'SIGHUP: reloading the config file');
    watcher.reload('signal').catch((error: unknown) => logger.error({ err: error }, 'config reload failed'));
  };
  process.on('SIGHUP', onHangup);
  return () => {
    process.off('SIGHUP', onHangup);
    watcher.stop();
  };
}
