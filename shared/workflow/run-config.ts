import { createHash } from 'node:crypto';
import { DEFAULT_CONFIG, type ProjectConfig } from '../config/config.ts';
import type { PrivacyPorts } from '../privacy/ports.ts';
import type { RunConfig } from './types.ts';
import type { ConfigSource } from '../ports.ts';

/** The config a Plan uses: the one given, the one its source reads now, or DEFAULT_CONFIG. */
export async function resolveConfig(config: ProjectConfig | ConfigSource | undefined): Promise<ProjectConfig> {
  if (config === undefined) return DEFAULT_CONFIG;
  return typeof config === 'function' ? config() : config;
}

/** What the plan carries of a config for the steps after Plan. */
export function runConfigOf(config: ProjectConfig): RunConfig {
  return {
    hash: createHash('sha256').update(JSON.stringify(config)).digest('hex'),
    privacy: config.privacy,
    tiles: config.tiles,
    events: config.events,
  };
}

/**
 * A step's privacy ports with the run's settings: those Plan read (carried in the plan), not
 * whatever the config says by the time this step runs. Without a run config (an input from
 * before plans carried it) the ports' own settings apply.
 */
export function runPrivacy(ports: PrivacyPorts | undefined, run: RunConfig | undefined): PrivacyPorts | undefined {
  return ports && run ? { ...ports, settings: run.privacy } : ports;
}
