import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** What an operation returns; the boundary turns it into the Lambda proxy result. */
export interface OperationResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export const ok = (body: unknown): OperationResult => ({ status: 200, body });
export const noContent = (): OperationResult => ({ status: 204 });

export function toProxyResult(result: OperationResult): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: result.status,
    headers: {
      'cache-control': 'no-cache',
      ...(result.body !== undefined && { 'content-type': 'application/json; charset=utf-8' }),
      ...result.headers,
    },
    body: result.body === undefined ? '' : JSON.stringify(result.body),
  };
}
