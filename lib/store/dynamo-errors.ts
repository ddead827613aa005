import { ServiceUnavailableError, ThrottledError } from '../errors.ts';

/** Names of the cancellation reasons of a cancelled transaction, in item order. */
export function cancellationReasons(error: unknown): string[] | undefined {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (e?.name !== 'TransactionCanceledException') return undefined;
  return (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/**
 * Translates DynamoDB failures that are not the caller's into ours, so no SDK
 * message (which may quote key values) reaches a response.
 */
export function translateDynamoError(error: unknown): never {
  const name = (error as { name?: string })?.name ?? '';
  if (
    name === 'ProvisionedThroughputExceededException' ||
    name === 'ThrottlingException' ||
    name === 'RequestLimitExceeded'
  ) {
    throw new ThrottledError('The store is throttling requests; retry later.');
  }
  const reasons = cancellationReasons(error);
  if (reasons?.includes('TransactionConflict')) {
    throw new ThrottledError('A concurrent write to the same item is in progress; retry.');
  }
  if (
    name === 'ResourceNotFoundException' ||
    name === 'InternalServerError' ||
    name === 'ServiceUnavailable'
  ) {
    throw new ServiceUnavailableError(`The store is unavailable (${name}).`);
  }
  throw error;
}
