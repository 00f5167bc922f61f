import { AthenaClient } from '@aws-sdk/client-athena';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';

/**
 * SDK clients, created once per container at module scope and passed into the adapters. Region
 * and credentials come from the Lambda environment.
 */
export const s3 = new S3Client({});
export const athena = new AthenaClient({});
export const glue = new GlueClient({});
export const sns = new SNSClient({});
export const eventBridge = new EventBridgeClient({});
export const stepFunctions = new SFNClient({});
export const secretsManager = new SecretsManagerClient({});
