/**
 * `Notifier` on Amazon SNS: one Publish per alert, with Subject (used as the e-mail subject),
 * Message (the plain-text body) and String message attributes (for subscription filter policies).
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ConfigError } from '../core/errors';
import { NotifierError } from '../core/detect/errors';
import type { Notification, Notifier } from '../core/detect/ports';

export interface SnsNotifierOptions {
  readonly client: SNSClient;
  /** A standard (not FIFO) topic: e-mail subscriptions need one. */
  readonly topicArn: string;
}

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

export class SnsNotifier implements Notifier {
  private readonly client: SNSClient;
  private readonly topicArn: string;

  constructor(options: SnsNotifierOptions) {
    if (typeof options.topicArn !== 'string' || !TOPIC_ARN.test(options.topicArn)) {
      throw new ConfigError(
        `SNS topic ARN "${String(options.topicArn)}" is not valid: expected arn:aws:sns:<region>:<account>:<name> of a standard (not FIFO) topic`,
      );
    }
    this.client = options.client;
    this.topicArn = options.topicArn;
  }

  async publish(notification: Notification): Promise<{ readonly messageId?: string }> {
    const attributes = Object.fromEntries(
      Object.entries(notification.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
    );
    try {
      const out = await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: notification.subject,
          Message: notification.message,
          MessageAttributes: attributes,
        }),
      );
      return out.MessageId !== undefined ? { messageId: out.MessageId } : {};
    } catch (error) {
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new NotifierError(`SNS Publish to ${this.topicArn} failed: ${why}`, { cause: error });
    }
  }
}
