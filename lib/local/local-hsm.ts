import { join } from 'node:path';
import { ensureSoftHsmToken, SoftHsmNotInstalledError } from '../keys/hsm/softhsm-token.ts';

export const LOCAL_TOKEN_LABEL = 'arca-local';
/** The label of the local token's trusted backup key: local HSM keys back up, as Azure's do. */
export const LOCAL_BACKUP_KEY_LABEL = 'arca-backup';

/** What the local vault tells about its HSM, and the ARCA_* settings that wire it. */
export interface LocalHsm {
  readonly env: Readonly<Record<string, string>>;
  /** One line for the start-up banner. */
  readonly summary: string;
}

/**
 * Local mode's HSM: a SoftHSM2 token of its own under {dataDir}/softhsm (its
 * config file, token folder and PIN files, 0600), reached through PKCS#11
 * exactly as CloudHSM is on AWS. Without SoftHSM2 installed, HSM key types
 * are refused with a message saying how to enable them; nothing else changes.
 */
export async function configureLocalHsm(dataDir: string): Promise<LocalHsm> {
  const dir = join(dataDir, 'softhsm');
  try {
    const token = await ensureSoftHsmToken({
      dir,
      label: LOCAL_TOKEN_LABEL,
      backupKeyLabel: LOCAL_BACKUP_KEY_LABEL,
    });
    // SoftHSM2 reads its configuration when the module is initialised: set it before any session opens.
    process.env.SOFTHSM2_CONF = token.configPath;
    return {
      env: {
        ARCA_HSM: 'pkcs11',
        ARCA_PKCS11_MODULE: token.modulePath,
        ARCA_PKCS11_TOKEN_LABEL: token.label,
        ARCA_PKCS11_PIN_FILE: join(dir, 'user-pin'),
        ARCA_PKCS11_BACKUP_KEY: LOCAL_BACKUP_KEY_LABEL,
      },
      summary: `HSM keys: SoftHSM2 token "${token.label}" in ${token.tokenDir}`,
    };
  } catch (error) {
    if (!(error instanceof SoftHsmNotInstalledError)) throw error;
    const reason =
      'HSM-protected keys (RSA-HSM, EC-HSM, oct-HSM) need SoftHSM2 in local mode, and it is not installed. ' +
      `${error.message.replace(/^SoftHSM2 is not installed[^.]*\.\s*/, '')} Then restart npm start.`;
    return { env: { ARCA_HSM: 'off', ARCA_HSM_OFF_REASON: reason }, summary: `HSM keys: off. ${reason}` };
  }
}
