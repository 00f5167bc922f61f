import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The CLI's default privacy key file lives under the user's config folder: tests keep theirs apart.
    env: { XDG_CONFIG_HOME: join(tmpdir(), 'cohorts-test-config') },
  },
});
