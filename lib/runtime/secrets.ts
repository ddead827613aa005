import type { SecretsDeps } from '../secrets/secrets-deps.ts';
import { container } from './container.ts';

/** Builds a secret use case once per container, on first use. */
export function secretUseCase<F>(make: (deps: SecretsDeps) => F): () => F {
  let made: F | undefined;
  return () => {
    made ??= make(container().secrets);
    return made;
  };
}
