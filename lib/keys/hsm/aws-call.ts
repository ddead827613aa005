/**
 * What the HSM's AWS adapters (the CloudHSM health check, the PIN secret)
 * share: a call with a deadline, so that an unreachable endpoint (a function
 * in a VPC without a route to it) counts as unavailable in seconds rather
 * than after the SDK's retries; and the exception's name, the only part of an
 * AWS error that may reach a message (its text may hold ARNs and account ids).
 */

/** The call did not answer within its deadline (and was aborted). */
export class AwsCallTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** Runs `call` with an abort signal; aborts it and throws AwsCallTimeout at the deadline. */
export async function withDeadline<T>(
  timeoutMs: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new AwsCallTimeout(timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([call(abort.signal), deadline]);
  } catch (error) {
    throw abort.signal.aborted ? new AwsCallTimeout(timeoutMs) : error;
  } finally {
    clearTimeout(timer);
  }
}

/** The exception name of an AWS SDK error, when it is a plain identifier; '' otherwise. */
export function exceptionName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_.]{0,99}$/.test(name) ? name : '';
}
