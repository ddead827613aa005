/**
 * The one error hierarchy. Each class carries the HTTP status and the Key Vault
 * error code it becomes at the boundary (lib/http/error-boundary.ts). Messages
 * are shown to callers: they name fields and identifiers, never values.
 */
export class KeyVaultError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadParameterError extends KeyVaultError {
  constructor(message: string) {
    super(400, 'BadParameter', message);
  }
}

export class UnauthorizedError extends KeyVaultError {
  constructor(message: string) {
    super(401, 'Unauthorized', message);
  }
}

export class ForbiddenError extends KeyVaultError {
  constructor(message: string, innerCode?: string) {
    super(403, 'Forbidden', message, innerCode);
  }
}

export class NotFoundError extends KeyVaultError {
  /** code is the Key Vault code for the kind: SecretNotFound, KeyNotFound, NotFound … */
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class MethodNotAllowedError extends KeyVaultError {
  constructor(message: string) {
    super(405, 'MethodNotAllowed', message);
  }
}

export class ConflictError extends KeyVaultError {
  constructor(message: string) {
    super(409, 'Conflict', message);
  }
}

export class PayloadTooLargeError extends KeyVaultError {
  constructor(message: string) {
    super(413, 'RequestEntityTooLarge', message);
  }
}

export class ThrottledError extends KeyVaultError {
  constructor(message: string) {
    super(429, 'Throttled', message);
  }
}

export class ServiceUnavailableError extends KeyVaultError {
  constructor(message: string) {
    super(503, 'ServiceUnavailable', message);
  }
}
