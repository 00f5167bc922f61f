import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Options for {@link AlertsTopic}. */
export interface AlertsTopicProps {
  /** Addresses subscribed by e-mail; each must confirm the subscription once. */
  readonly emails: readonly string[];
  /** What happens to the topic's key when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The SNS topic that failed, held and warned refreshes are announced on, encrypted
 * with its own key (publishers such as CloudWatch alarms get decrypt rights on that
 * key only, not on the data key) and reachable over TLS only.
 */
export class AlertsTopic extends Construct {
  /** The key that encrypts messages at rest. */
  public readonly key: kms.Key;
  /** The topic. */
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertsTopicProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'cohort-refresh alerts topic',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: props.removalPolicy,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Cohort refresh alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.emails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}
