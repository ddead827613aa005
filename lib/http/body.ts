import type { z } from 'zod';
import { BadParameterError } from '../errors.ts';

/**
 * Parses a JSON request body against a schema. Every failure is a 400
 * BadParameter that names the field and the rule, never quoting the value.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: string | undefined): z.infer<S> {
  if (body === undefined || body.trim() === '') {
    throw new BadParameterError('The request body is missing; this operation needs a JSON body.');
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new BadParameterError('The request body is not valid JSON.');
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : 'body';
    throw new BadParameterError(`Invalid value for field '${field}': ${describe(issue)}.`);
  }
  return result.data;
}

function describe(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'not accepted';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_big':
      return `must be at most ${issue.maximum}${issue.origin === 'string' ? ' characters' : issue.origin === 'object' ? ' entries' : ''}`;
    case 'too_small':
      return `must be at least ${issue.minimum}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex'
        ? 'contains characters that are not allowed'
        : `must be ${issue.format}`;
    default:
      // Custom refinements carry their own wording; built-in messages may quote input, so they are not used.
      return issue.code === 'custom' ? issue.message : 'not accepted';
  }
}
