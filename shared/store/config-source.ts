import { parseCloudConfig } from '../config/cloud-config.ts';
import { CONFIG_FILE, DEFAULT_CONFIG } from '../config/config.ts';
import type { BlobStore, ConfigSource } from '../ports.ts';

/**
 * The project config of the definitions bucket: `cohorts.config.yaml` at its top level, beside
 * the live definitions, parsed as the cloud uses it (see parseCloudConfig; an invalid file throws
 * ConfigError with its `path:line:col` problems). No such object: DEFAULT_CONFIG.
 */
export function bucketConfig(definitions: BlobStore, key: string = CONFIG_FILE): ConfigSource {
  return async () => {
    const bytes = await definitions.get(key);
    return bytes === undefined ? DEFAULT_CONFIG : parseCloudConfig(Buffer.from(bytes).toString('utf8'), definitions.locate(key));
  };
}
