import { DEFAULT_CONFIG, type ProjectConfig } from '../../shared/config/config.ts';

const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * Source checks that warn but never fail: the small lakes of these tests stop weeks before
 * their as-of, which real source checks rightly hold. Tests of the source checks use the defaults.
 */
export const WARN_ONLY_SOURCE_CHECKS: ProjectConfig = {
  ...DEFAULT_CONFIG,
  checks: {
    ...DEFAULT_CONFIG.checks,
    freshness: { warn: 1, fail: NEVER },
    volume: { ...DEFAULT_CONFIG.checks.volume, fail: NEVER },
    invalid_rows: { warn: 1, fail: NEVER },
    duplicates: { warn: 0.5, fail: NEVER },
    unmapped_ids: { warn: 5, fail: NEVER },
  },
};

/** The same as a config file, for tests of the command line. */
export const WARN_ONLY_CONFIG_YAML = `defaults:
  freshness_hours: 300
checks:
  freshness: {warn: 1, fail: 2}
  volume: {warn: 3.5, fail: 1000000}
  invalid_rows: {warn: 1, fail: 100}
  duplicates: {warn: 0.5, fail: 100}
  unmapped_ids: {warn: 5, fail: 100}
`;
