import { readFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { Pkcs11Session } from '../keys/hsm/pkcs11-session.ts';

/**
 * The process's one PKCS#11 session to the configured token (module, token
 * label, PIN or PIN file), opened on first use by whoever needs it first: the
 * HSM key backend or the health route. pkcs11js is a native module, loaded
 * here only with ARCA_HSM=pkcs11.
 */
export async function configuredPkcs11Session(config: Config): Promise<Pkcs11Session> {
  const { sharedPkcs11Session } = await import('../keys/hsm/pkcs11-session.ts');
  return sharedPkcs11Session({
    modulePath: config.ARCA_PKCS11_MODULE as string,
    tokenLabel: config.ARCA_PKCS11_TOKEN_LABEL as string,
    pin: pinOf(config),
  });
}

function pinOf(config: Config): string {
  if (config.ARCA_PKCS11_PIN) return config.ARCA_PKCS11_PIN;
  try {
    return readFileSync(config.ARCA_PKCS11_PIN_FILE as string, 'utf8').trim();
  } catch {
    throw new ServiceUnavailableError('The PKCS#11 PIN file (ARCA_PKCS11_PIN_FILE) could not be read.');
  }
}
