import { type CfnElement, type Duration, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface SweepScheduleProps {
  readonly sweep: IFunction;
  readonly interval: Duration;
  /** What it runs, in the schedule's description and the acknowledged finding's reason. */
  readonly description: string;
  readonly deadLetterQueue: IQueue;
}

/**
 * An EventBridge Scheduler schedule that invokes a sweep function every
 * `interval`, through a role of its own that may invoke that function and
 * nothing else. A sweep that missed its slot is replaced by the next one,
 * which does what is still due, so an invocation older than one interval is
 * dropped (to the dead-letter queue) rather than run late.
 */
export function sweepSchedule(scope: Construct, props: SweepScheduleProps): Schedule {
  const stack = Stack.of(scope);
  const role = new Role(scope, 'SchedulerRole', {
    assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  });
  const fnId = stack.getLogicalId(props.sweep.node.defaultChild as CfnElement);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
    reason: `lambda:InvokeFunction on ${props.description}'s versions and aliases (grantInvoke); that one function only.`,
  });
  return new Schedule(scope, 'SweepSchedule', {
    schedule: ScheduleExpression.rate(props.interval),
    description: `Arca: ${props.description}`,
    target: new LambdaInvoke(props.sweep, {
      role,
      retryAttempts: 2,
      maxEventAge: props.interval,
      deadLetterQueue: props.deadLetterQueue,
    }),
  });
}
