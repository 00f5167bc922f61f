import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseKeyRing } from '../privacy/privacy-key.ts';
import { awsCall } from './aws-call.ts';
import type { PrivacyKeySource } from '../ports.ts';

/**
 * The privacy key in the cloud: the Secrets Manager secret the construct generates (one key a
 * line: the first makes new erasure records, later lines are older keys kept to recognise theirs).
 * Read once per container: only the functions that erase or screen may read it, and the key
 * never sits in a bucket. `create` is ignored: the secret always holds a key.
 */
export function secretPrivacyKey(client: SecretsManagerClient, secretId: string): PrivacyKeySource {
  let ring: Promise<string[]> | undefined;
  const read = async () => {
    const secret = await awsCall('SecretsManager.GetSecretValue', () => client.send(new GetSecretValueCommand({ SecretId: secretId })));
    return parseKeyRing(secret.SecretString ?? '', `the privacy key secret ${secretId}`);
  };
  return {
    where: `the privacy key secret ${secretId}`,
    load: async () => {
      ring ??= read().catch((error: unknown) => {
        ring = undefined;
        throw error;
      });
      return ring;
    },
  };
}
