import type { Config } from '../config.ts';
import { BadParameterError } from '../errors.ts';
import type { KeyBackend, KeyBackends } from '../keys/key-backends.ts';
import type { KeysDeps } from '../keys/keys-deps.ts';
import { softwareBackend } from '../keys/software/software-backend.ts';
import { DynamoKeyStore } from '../store/dynamo-key-store.ts';
import { container } from './container.ts';
import { newVersionId, nowSeconds } from './ids.ts';
import { configuredPkcs11Session } from './pkcs11.ts';

let deps: KeysDeps | undefined;

/** The container's key dependencies, made on first use (the HSM only when an HSM key is first touched). */
export function keysDeps(): KeysDeps {
  if (!deps) {
    const { dynamo, config, auditTable, barrier } = container();
    deps = {
      store: new DynamoKeyStore(dynamo, config.ARCA_TABLE_NAME, auditTable),
      barrier,
      backends: keyBackends(config),
      now: nowSeconds,
      newVersionId,
    };
  }
  return deps;
}

/** Builds a key use case once per container, on first use. */
export function keyUseCase<F>(make: (deps: KeysDeps) => F): () => F {
  let made: F | undefined;
  return () => {
    made ??= make(keysDeps());
    return made;
  };
}

const HSM_OFF =
  'HSM-protected keys (RSA-HSM, EC-HSM, oct-HSM) are not enabled in this deployment: set ARCA_HSM to pkcs11 ' +
  '(with ARCA_PKCS11_MODULE, ARCA_PKCS11_TOKEN_LABEL, and ARCA_PKCS11_PIN_FILE or ARCA_PKCS11_PIN_SECRET) or to kms.';

export function keyBackends(config: Config): KeyBackends {
  let hsm: Promise<KeyBackend> | undefined;
  return {
    software: softwareBackend,
    hsmKind: config.ARCA_HSM,
    hsm() {
      if (config.ARCA_HSM === 'off') {
        return Promise.reject(new BadParameterError(config.ARCA_HSM_OFF_REASON ?? HSM_OFF));
      }
      hsm ??= openHsm(config);
      hsm.catch(() => {
        hsm = undefined;
      });
      return hsm;
    },
  };
}

async function openHsm(config: Config): Promise<KeyBackend> {
  if (config.ARCA_HSM === 'kms') {
    const [{ KMSClient }, { kmsBackend }] = await Promise.all([
      import('@aws-sdk/client-kms'),
      import('../keys/kms/kms-backend.ts'),
    ]);
    return kmsBackend(new KMSClient({ region: config.AWS_REGION }));
  }
  const [session, { pkcs11Backend }] = await Promise.all([
    configuredPkcs11Session(config),
    import('../keys/hsm/pkcs11-backend.ts'),
  ]);
  return pkcs11Backend(session, {
    ...(config.ARCA_PKCS11_BACKUP_KEY !== undefined && { backupKeyLabel: config.ARCA_PKCS11_BACKUP_KEY }),
  });
}
