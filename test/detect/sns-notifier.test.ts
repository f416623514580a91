import '../support/aws-env';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../lib/adapters/sns-notifier';
import { NotifierError } from '../../lib/core/detect/errors';
import { ConfigError } from '../../lib/core/errors';

const sns = mockClient(SNSClient);
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:okta-lake-alerts';

beforeEach(() => {
  sns.reset();
});

describe('SnsNotifier', () => {
  it('publishes subject, message and String message attributes to the topic', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const notifier = new SnsNotifier({ client: new SNSClient({}), topicArn: TOPIC_ARN });
    // Act
    const out = await notifier.publish({ subject: '[LOW] x: 1 new finding', message: 'body', attributes: { severity: 'low', detection_id: 'x' } });
    // Assess
    expect(out).toEqual({ messageId: 'm-1' });
    expect(sns.commandCalls(PublishCommand)[0].args[0].input).toEqual({
      TopicArn: TOPIC_ARN,
      Subject: '[LOW] x: 1 new finding',
      Message: 'body',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'low' },
        detection_id: { DataType: 'String', StringValue: 'x' },
      },
    });
  });

  it('wraps a failed publish in NotifierError with the SDK error as cause', async () => {
    // Prepare
    sns.on(PublishCommand).rejects(Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' }));
    const notifier = new SnsNotifier({ client: new SNSClient({ maxAttempts: 1 }), topicArn: TOPIC_ARN });
    // Act
    const error = await notifier.publish({ subject: 's', message: 'm', attributes: {} }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(NotifierError);
    expect((error as Error).message).toContain('NotFoundException: Topic does not exist');
    expect(((error as Error).cause as Error).name).toBe('NotFoundException');
  });

  it('refuses a topic ARN that is not a standard topic', () => {
    // Act / Assess
    expect(() => new SnsNotifier({ client: new SNSClient({}), topicArn: 'okta-lake-alerts' })).toThrow(ConfigError);
    expect(() => new SnsNotifier({ client: new SNSClient({}), topicArn: `${TOPIC_ARN}.fifo` })).toThrow(/standard \(not FIFO\)/);
  });
});
