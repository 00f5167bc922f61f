import type { DefinitionProblem } from '../language/errors.ts';
import { ConfigError, type ProjectConfig, readConfigFile } from './config.ts';
import { PRIVACY_PREFIX } from '../bucket-layout.ts';

/**
 * Parses the project config as the cloud uses it: every check of parseConfig, plus what the
 * deployed functions can honour. `privacy.suppression_list` must be a key under `privacy/` of the
 * snapshots bucket, and `privacy.salt_env` is refused: a Lambda environment variable is plain
 * text in the stack template and the function configuration, which is no place for the key of
 * erasure records (the construct's privacy key secret is used instead). Throws ConfigError with every problem's `path:line:col`.
 */
export function parseCloudConfig(text: string, file: string): ProjectConfig {
  const { config, positionOf } = readConfigFile(text, file);
  const problems: DefinitionProblem[] = [];
  const at = (path: readonly string[]) => {
    const position = positionOf(path);
    return position ? { file, position } : { file };
  };
  const list = config.privacy.suppression_list;
  if (!list.startsWith(PRIVACY_PREFIX)) {
    problems.push({
      ...at(['privacy', 'suppression_list']),
      message: `privacy.suppression_list must be a key under ${PRIVACY_PREFIX} in the cloud (the refresh functions read only ${PRIVACY_PREFIX}* of the snapshots bucket), got ${JSON.stringify(list)}`,
    });
  }
  if (config.privacy.salt_env !== undefined) {
    problems.push({
      ...at(['privacy', 'salt_env']),
      message:
        'privacy.salt_env is not supported in the cloud (a Lambda environment variable is plain text in the stack template); ' +
        'leave it out: the privacy key secret the stack generates is used (put a key you used before on its second line)',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
