import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { KeyVaultError } from '../errors.ts';
import { toProxyResult } from './responses.ts';

/**
 * The one boundary where errors become responses: a KeyVaultError becomes
 * its status and `{"error":{"code","message"}}`; anything else becomes a plain
 * 500 naming the request id, never a stack trace or an internal message.
 */
export function errorResponse(error: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  if (error instanceof KeyVaultError) {
    return toProxyResult({
      status: error.status,
      body: {
        error: {
          code: error.code,
          message: error.message,
          ...(error.innerCode && { innererror: { code: error.innerCode } }),
        },
      },
    });
  }
  // Log the kind of failure only: SDK messages can quote request data.
  console.error(
    JSON.stringify({ level: 'error', msg: 'unhandled error', requestId, errorName: errorName(error) }),
  );
  return toProxyResult({
    status: 500,
    body: {
      error: {
        code: 'InternalServerError',
        message: `The service hit an unexpected error. Request id: ${requestId}.`,
      },
    },
  });
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
