import { readFile } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { Pkcs11Session } from '../keys/hsm/pkcs11-session.ts';

/**
 * The process's one PKCS#11 session to the configured token (module, token
 * label, optionally the slot, and a PIN given directly, in a file, or in a Secrets Manager secret),
 * opened on first use by whoever needs it first: the HSM key backend or the
 * health route. The PIN is read only when the session is opened, so a secret
 * is fetched once per process. pkcs11js is a native module, loaded here only
 * with ARCA_HSM=pkcs11.
 */
export async function configuredPkcs11Session(config: Config): Promise<Pkcs11Session> {
  const { sharedPkcs11Session } = await import('../keys/hsm/pkcs11-session.ts');
  return sharedPkcs11Session({
    modulePath: config.ARCA_PKCS11_MODULE as string,
    tokenLabel: config.ARCA_PKCS11_TOKEN_LABEL as string,
    ...(config.ARCA_PKCS11_SLOT !== undefined && { slotId: config.ARCA_PKCS11_SLOT }),
    pin: () => pinOf(config),
  });
}

async function pinOf(config: Config): Promise<string> {
  if (config.ARCA_PKCS11_PIN) return config.ARCA_PKCS11_PIN;
  if (config.ARCA_PKCS11_PIN_SECRET) {
    const [{ SecretsManagerClient }, { readPinSecret }] = await Promise.all([
      import('@aws-sdk/client-secrets-manager'),
      import('../keys/hsm/secrets-manager-pin.ts'),
    ]);
    const client = new SecretsManagerClient({ region: config.AWS_REGION });
    try {
      return await readPinSecret(client, config.ARCA_PKCS11_PIN_SECRET);
    } finally {
      client.destroy();
    }
  }
  try {
    return (await readFile(config.ARCA_PKCS11_PIN_FILE as string, 'utf8')).trim();
  } catch {
    throw new ServiceUnavailableError('The PKCS#11 PIN file (ARCA_PKCS11_PIN_FILE) could not be read.');
  }
}
