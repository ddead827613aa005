import { RemovalPolicy } from 'aws-cdk-lib';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The vault key-encryption key: every sealed value's data key is wrapped
 * under it (lib/crypto/kms-keyring.ts). Losing it loses every secret, so it
 * is retained with the stack gone and rotated yearly (old versions stay
 * usable for unwrapping). Grants name the exact KMS actions the keyring calls.
 */
export class VaultKek extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      alias: 'alias/arca/vault-kek',
      description: 'Arca: vault key-encryption key (wraps the data key of every sealed value)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Opening sealed values: unwrap data keys (KmsKeyring.unwrapDataKey). */
  grantUnwrap(grantee: IGrantable): Grant {
    return this.key.grant(grantee, 'kms:Decrypt');
  }

  /** Sealing new values as well: new data keys (KmsKeyring.generateDataKey). */
  grantWrapAndUnwrap(grantee: IGrantable): Grant {
    return this.key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
  }
}
