import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, parseConfig } from '../../shared/config/config.ts';

function problems(text: string): string[] {
  try {
    parseConfig(text, 'cohorts.config.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('the privacy section of the project config', () => {
  it('defaults to no personal property, the suppression list in the state folder and a generated salt', () => {
    expect(DEFAULT_CONFIG.privacy).toEqual({ personal_properties: [], suppression_list: 'privacy/suppressed.txt' });
  });

  it('reads personal properties, the suppression list key and the salt variable', () => {
    const config = parseConfig('privacy:\n  personal_properties: [email, phone.mobile]\n  suppression_list: optouts/list.txt\n  salt_env: COHORTS_SALT\n', 'c.yaml');
    expect(config.privacy).toEqual({ personal_properties: ['email', 'phone.mobile'], suppression_list: 'optouts/list.txt', salt_env: 'COHORTS_SALT' });
  });

  it('names an unknown key and every bad value with its line and column', () => {
    expect(problems('privacy:\n  personal_property: [email]\n')).toEqual(['cohorts.config.yaml:2:3: privacy: unknown key "personal_property" (a typo is never ignored)']);
    expect(problems('privacy:\n  personal_properties: ["e mail"]\n  suppression_list: ../outside.txt\n  salt_env: "not a name"\n')).toEqual([
      expect.stringMatching(/^cohorts\.config\.yaml:2:25: privacy\.personal_properties\.0 must be a property name/),
      expect.stringMatching(/^cohorts\.config\.yaml:3:21: privacy\.suppression_list must be a key inside the state folder/),
      expect.stringMatching(/^cohorts\.config\.yaml:4:13: privacy\.salt_env must be an environment variable name/),
    ]);
  });
});
