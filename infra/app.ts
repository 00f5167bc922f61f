import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CohortRefreshStack } from './cohort-refresh-stack.ts';
import { InvalidContextError, readStackConfig } from './stack-config.ts';
import { InvalidPropError } from './common/validate-props.ts';

const app = new App();
try {
  new CohortRefreshStack(app, 'CohortRefreshStack', {
    config: readStackConfig(app.node),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
} catch (error) {
  // A bad -c value or prop is the user's to fix: one clear line, no stack trace.
  if (error instanceof InvalidContextError || error instanceof InvalidPropError) {
    console.error(`${error.name}: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
// cdk-nag 3 is a policy validation plugin: any unacknowledged finding stops synthesis.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
