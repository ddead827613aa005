import { BadParameterError } from '../errors.ts';

/** What today's SDKs send, and the 7.x versions whose shapes are the same. */
export const SUPPORTED_API_VERSIONS = [
  '2026-04-01',
  '2025-07-01',
  '7.6',
  '7.5',
  '7.4',
  '7.3',
  '7.2',
  '7.1',
  '7.0',
];

export function requireApiVersion(value: string | null): string {
  if (!value) throw new BadParameterError("The 'api-version' query parameter is missing.");
  if (!SUPPORTED_API_VERSIONS.includes(value)) {
    throw new BadParameterError(
      `The 'api-version' query parameter is not supported; supported versions: ${SUPPORTED_API_VERSIONS.join(', ')}.`,
    );
  }
  return value;
}
