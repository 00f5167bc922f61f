import { readFile } from 'node:fs/promises';
import { type DefinitionProblem, formatProblem, type SourcePosition, unreadableFile } from '../language/errors.ts';
import { readYamlFile } from '../language/yaml-file.ts';
import { configSchema, type ProjectConfig } from './schema.ts';

export type {
  CheckLevels,
  CountLevels,
  EventSettings,
  GuardrailSettings,
  MetricSettings,
  ProjectConfig,
  ShareLevels,
  SourceSettings,
} from './schema.ts';
export { MAX_FRESHNESS_HOURS } from './schema.ts';
export type { PrivacySettings } from './privacy-schema.ts';

/** The config file's usual name, at the project root. */
export const CONFIG_FILE = 'cohorts.config.yaml';

/** Every setting at its default: what a project without a config file gets. */
export const DEFAULT_CONFIG: ProjectConfig = deepFreeze(configSchema.parse({}));

/** Thrown when the config file is invalid; carries every problem, each as `path:line:col: message`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly DefinitionProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/**
 * Reads the project config file (YAML 1.2, unique keys, unknown keys are errors). A file that does
 * not exist, or holds nothing, yields DEFAULT_CONFIG.
 */
export async function loadConfig(path: string): Promise<ProjectConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_CONFIG;
    throw new ConfigError([
      { file: path, message: unreadableFile(error as NodeJS.ErrnoException, `the project config file (${CONFIG_FILE})`) },
    ]);
  }
  return parseConfig(text, path);
}

/** Parses config text; `file` names it in errors. Throws ConfigError. */
export function parseConfig(text: string, file: string): ProjectConfig {
  return readConfigFile(text, file).config;
}

/** A config file read and validated, with the way back from a setting to its place in the file. */
export interface ConfigFile {
  readonly config: ProjectConfig;
  /** Where a setting stands (e.g. `['privacy', 'salt_env']`), for problems found after parsing. */
  readonly positionOf: (path: readonly PropertyKey[]) => SourcePosition | undefined;
}

/** {@link parseConfig}, keeping the positions of the settings. Throws ConfigError. */
export function readConfigFile(text: string, file: string): ConfigFile {
  const read = readYamlFile(text, file, configSchema, 'the config must be a YAML mapping with keys defaults, sources, checks and metrics');
  if (!read.ok) throw new ConfigError(read.problems);
  return { config: deepFreeze(read.value), positionOf: read.positionOf };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
