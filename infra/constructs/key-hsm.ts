import { existsSync } from 'node:fs';
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LayerVersion } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { parseSlotId } from '#lib/config.ts';
import { type OperationFunctionProps, wildcardArnFinding } from './operation-function.ts';

/**
 * Where HSM-protected keys (RSA-HSM, EC-HSM, oct-HSM) live on AWS, and what
 * the functions that use them get (DESIGN.md #5; ARCA_HSM in lib/config.ts):
 *
 * - off (default): nowhere; HSM key types are refused, nothing is granted.
 * - kms: AWS KMS asymmetric keys, one per key version (lib/keys/kms/). Each
 *   function gets the KMS actions its operation calls and no other, only on
 *   asymmetric keys of the specs Arca creates (and, for using and destroying
 *   keys, only keys tagged arca:vault by Arca).
 * - pkcs11: a CloudHSM cluster through its PKCS#11 library
 *   (lib/keys/hsm/pkcs11-*.ts). The library is not part of Lambda: it must
 *   be provided as a Lambda layer, and the functions must run in the
 *   cluster's VPC. See Pkcs11Settings.
 *
 * The HSM health route (functions/health/get-hsm-health.ts) reports the
 * CloudHSM cluster given by cloudHsmClusterId (with pkcs11, or with kms for a
 * CloudHSM custom key store) and may call cloudhsm:DescribeClusters.
 */
export type HsmMode = 'off' | 'kms' | 'pkcs11';

export interface Pkcs11Settings {
  /**
   * Path of the PKCS#11 module inside the function; layers are mounted under /opt.
   * @default '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so' (CloudHSM Client SDK 5)
   */
  readonly modulePath?: string;
  /** @default 'hsm1' (the one token of CloudHSM Client SDK 5) */
  readonly tokenLabel?: string;
  /** The slot's ID (decimal, or 0x hex); its token must carry tokenLabel. By default, the slot whose token does. */
  readonly slotId?: string;
  /**
   * The Secrets Manager secret (name, or complete ARN) whose SecretString is
   * the USER PIN; for CloudHSM, `{crypto user name}:{password}`. The functions
   * that use the HSM get its name (ARCA_PKCS11_PIN_SECRET) and
   * secretsmanager:GetSecretValue on it alone, and read it when they first
   * open their session: the PIN is neither in the template nor in the
   * functions' configuration, and a rotated PIN is picked up by the next cold
   * start. Their subnets need a route or an interface endpoint to Secrets
   * Manager; a secret under a customer managed key needs that key's policy
   * to let the functions' roles decrypt through Secrets Manager.
   */
  readonly pinSecret?: string;
  /**
   * A Lambda layer (arm64, Node.js 22 on Amazon Linux 2023) that holds the
   * CloudHSM Client SDK 5 PKCS#11 library under cloudhsm/ (so /opt/cloudhsm/lib/…
   * in the function) with its configuration for the cluster
   * (cloudhsm/etc/cloudhsm-pkcs11.cfg naming an HSM's ENI IP, and the
   * cluster's issuing certificate customerCA.crt), as the library's
   * `configure-pkcs11 -a {HSM IP}` would write them.
   */
  readonly layerArn?: string;
  /**
   * The cluster's VPC, the subnets the functions run in (where the HSMs' ENIs
   * are reachable) and security groups that the cluster's security group
   * admits on TCP 2223-2225. The functions also need, from those subnets,
   * DynamoDB, KMS, X-Ray, CloudWatch Logs and the CloudHSM API (VPC endpoints
   * or a NAT gateway), and the token issuer's JWKS URL (a NAT gateway).
   */
  readonly vpcId?: string;
  readonly subnetIds?: readonly string[];
  readonly securityGroupIds?: readonly string[];
  /**
   * pkcs11js is a native module: the functions need its binary built for
   * Lambda (linux arm64, Node.js 22 ABI, Amazon Linux 2023's glibc), at the
   * version package-lock.json pins. The path of that build/Release/pkcs11.node,
   * made for instance with
   * `docker run --rm --platform linux/arm64 -v "$PWD/build:/out" public.ecr.aws/sam/build-nodejs22.x
   *  sh -c 'cd /tmp && npm install pkcs11js@{version} && cp node_modules/pkcs11js/build/Release/pkcs11.node /out/'`.
   */
  readonly pkcs11jsBinary?: string;
  /**
   * The CKA_LABEL of an AES key in the cluster that a CloudHSM admin has
   * marked trusted (CKA_TRUSTED; CloudHSM CLI `key set-attribute --attribute
   * trusted --value true`), owned by or shared with the crypto user. With it,
   * HSM keys are made wrappable under trusted keys only, and BackupKey
   * exports them wrapped under it (RestoreKey needs the same key in the
   * cluster). Without it they are never extractable and BackupKey refuses them.
   */
  readonly backupKeyLabel?: string;
}

export interface KeyHsmProps {
  /** @default 'off' */
  readonly mode?: HsmMode;
  readonly pkcs11?: Pkcs11Settings;
  /** The CloudHSM cluster the health route reports on (cluster-…); needs mode kms or pkcs11. */
  readonly cloudHsmClusterId?: string;
}

/** What a handler does with HSM keys. */
export type HsmUse =
  | 'create'
  | 'sign'
  | 'verify'
  | 'encrypt'
  | 'decrypt'
  | 'destroy'
  | 'backup'
  | 'restore'
  | 'health';

/**
 * The handlers that reach the HSM, and how. Every other handler (get, list,
 * update, delete, recover, rotation policies …) reads the stored public facts
 * only and gets nothing of the HSM.
 */
const HSM_USES: Readonly<Record<string, readonly HsmUse[]>> = {
  'functions/keys/create-key.ts': ['create'],
  'functions/keys/rotate-key.ts': ['create'],
  'functions/keys/sign.ts': ['sign'],
  'functions/keys/verify.ts': ['verify'],
  'functions/keys/encrypt.ts': ['encrypt'],
  'functions/keys/wrap-key.ts': ['encrypt'],
  'functions/keys/decrypt.ts': ['decrypt'],
  'functions/keys/unwrap-key.ts': ['decrypt'],
  'functions/keys/purge-deleted-key.ts': ['destroy'],
  'functions/keys/backup-key.ts': ['backup'],
  'functions/keys/restore-key.ts': ['restore'],
  'functions/vaults/purge-deleted-vault.ts': ['destroy'],
  'functions/health/get-hsm-health.ts': ['health'],
};

/** How a handler file uses the HSM (none: an empty list). */
export function hsmUsesOf(handlerFile: string): readonly HsmUse[] {
  return HSM_USES[handlerFile] ?? [];
}

/** The KMS key specs lib/keys/kms/kms-key-factory.ts creates. */
const KEY_SPECS = [
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_SECG_P256K1',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
];
/** The tags it sets on each (identifiers only; see kmsTags there). */
const TAG_KEYS = ['arca:vault', 'arca:name', 'arca:version'];

/** Lambda placement and packaging for a function that opens PKCS#11 sessions. */
export type HsmFunctionOptions = Pick<OperationFunctionProps, 'layers' | 'network' | 'pkcs11jsBinary'>;

const CLOUDHSM_MODULE = '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so';
const CLOUDHSM_TOKEN = 'hsm1';

/** The settings of the deployment's HSM, and what it grants. */
export class KeyHsm extends Construct {
  readonly mode: HsmMode;
  readonly cloudHsmClusterId?: string;
  private readonly pkcs11?: {
    readonly modulePath: string;
    readonly tokenLabel: string;
    readonly slotId?: string;
    /** The secret's name or complete ARN, as configured (what GetSecretValue is given). */
    readonly pinSecret: string;
    /** The ARN(s) IAM matches the secret by. */
    readonly pinSecretArn: string;
    readonly backupKeyLabel?: string;
    readonly options: HsmFunctionOptions;
  };

  constructor(scope: Construct, id: string, props: KeyHsmProps = {}) {
    super(scope, id);
    const mode = props.mode ?? 'off';
    if (!['off', 'kms', 'pkcs11'].includes(mode)) {
      throw new Error(`arca:hsm must be 'off', 'kms' or 'pkcs11', not "${mode}"`);
    }
    this.mode = mode;
    const clusterId = props.cloudHsmClusterId;
    if (clusterId !== undefined) {
      if (mode === 'off') {
        throw new Error(
          'arca:cloudHsmClusterId is reported by the HSM health route only with an HSM: set arca:hsm to pkcs11 or kms',
        );
      }
      if (!/^cluster-[2-7a-zA-Z]{11,16}$/.test(clusterId)) {
        throw new Error(
          `arca:cloudHsmClusterId must be a CloudHSM cluster id (cluster-…), not "${clusterId}"`,
        );
      }
      this.cloudHsmClusterId = clusterId;
    }
    if (mode === 'pkcs11') {
      this.pkcs11 = this.pkcs11Settings(props.pkcs11 ?? {});
    }
  }

  /** The ARCA_* variables of a function (nothing for a handler that does not reach the HSM). */
  environment(uses: readonly HsmUse[]): Record<string, string> {
    if (uses.length === 0 || this.mode === 'off') return {};
    return {
      ARCA_HSM: this.mode,
      ...(this.pkcs11 && {
        ARCA_PKCS11_MODULE: this.pkcs11.modulePath,
        ARCA_PKCS11_TOKEN_LABEL: this.pkcs11.tokenLabel,
        ARCA_PKCS11_PIN_SECRET: this.pkcs11.pinSecret,
        ...(this.pkcs11.slotId !== undefined && { ARCA_PKCS11_SLOT: this.pkcs11.slotId }),
        ...(this.pkcs11.backupKeyLabel !== undefined && {
          ARCA_PKCS11_BACKUP_KEY: this.pkcs11.backupKeyLabel,
        }),
      }),
      ...(uses.includes('health') && this.cloudHsmClusterId
        ? { ARCA_CLOUDHSM_CLUSTER_ID: this.cloudHsmClusterId }
        : {}),
    };
  }

  /** Layer, VPC placement and environment encryption of a function that opens PKCS#11 sessions. */
  functionOptions(uses: readonly HsmUse[]): HsmFunctionOptions {
    return uses.length > 0 && this.pkcs11 ? this.pkcs11.options : {};
  }

  /** The AWS permissions a function's uses need. */
  grant(grantee: IGrantable, uses: readonly HsmUse[]): void {
    if (this.mode === 'kms') for (const use of new Set(uses)) this.grantKms(grantee, use);
    if (this.pkcs11 && uses.length > 0) {
      // The PIN, read when the function first opens its session.
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.pkcs11.pinSecretArn],
        }),
      );
    }
    if (uses.includes('health') && this.cloudHsmClusterId) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['cloudhsm:DescribeClusters'], resources: ['*'] }),
      );
      acknowledge(grantee, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudhsm:DescribeClusters supports no resource-level permissions (the health route filters by ' +
          'the cluster id); active tracing: xray:PutTraceSegments and PutTelemetryRecords support none either.',
      });
    }
  }

  private grantKms(grantee: IGrantable, use: HsmUse): void {
    const principal = grantee.grantPrincipal;
    const keys = Stack.of(this).formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
    const arcaKeys = { 'kms:KeySpec': KEY_SPECS, 'kms:KeyOrigin': 'AWS_KMS' };
    const taggedByArca = { Null: { 'aws:ResourceTag/arca:vault': 'false' } };
    const add = (
      actions: string[],
      resources: string[],
      conditions: Record<string, Record<string, unknown>>,
    ) => principal.addToPrincipalPolicy(new PolicyStatement({ actions, resources, conditions }));
    switch (use) {
      case 'create':
        // CreateKey has no resource; its request is what can be constrained.
        add(['kms:CreateKey'], ['*'], {
          StringEquals: { ...arcaKeys, 'kms:KeyUsage': ['SIGN_VERIFY', 'ENCRYPT_DECRYPT'] },
          BoolIfExists: { 'kms:MultiRegion': 'false', 'kms:BypassPolicyLockoutSafetyCheck': 'false' },
          Null: { 'aws:RequestTag/arca:vault': 'false' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': TAG_KEYS },
        });
        // Tags set by CreateKey need TagResource on the account's keys (KMS: "not restricted to particular keys").
        add(['kms:TagResource'], [keys], {
          Null: { 'aws:RequestTag/arca:vault': 'false' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': TAG_KEYS },
        });
        // Read right after creation, when the new tags may not yet count for authorization
        // (KMS: up to five minutes): constrained by the key's own properties instead.
        add(['kms:GetPublicKey', 'kms:DescribeKey'], [keys], { StringEquals: arcaKeys });
        // The clean-up of a key whose public key could not be read (best effort).
        add(['kms:ScheduleKeyDeletion'], [keys], { StringEquals: arcaKeys, ...taggedByArca });
        break;
      case 'sign':
      case 'verify':
        add([use === 'sign' ? 'kms:Sign' : 'kms:Verify'], [keys], {
          StringEquals: { ...arcaKeys, 'kms:KeyUsage': 'SIGN_VERIFY', 'kms:MessageType': 'DIGEST' },
          ...taggedByArca,
        });
        break;
      case 'decrypt':
        add(['kms:Decrypt'], [keys], {
          StringEquals: {
            ...arcaKeys,
            'kms:KeyUsage': 'ENCRYPT_DECRYPT',
            'kms:EncryptionAlgorithm': ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'],
          },
          ...taggedByArca,
        });
        break;
      case 'destroy':
        add(['kms:ScheduleKeyDeletion', 'kms:DescribeKey'], [keys], {
          StringEquals: arcaKeys,
          ...taggedByArca,
        });
        break;
      case 'restore':
        // A purged version's KMS key, revived within its waiting period (lib/keys/kms/kms-restore.ts);
        // ScheduleKeyDeletion undoes that should the restore fail after it.
        add(
          ['kms:DescribeKey', 'kms:CancelKeyDeletion', 'kms:EnableKey', 'kms:ScheduleKeyDeletion'],
          [keys],
          {
            StringEquals: arcaKeys,
            ...taggedByArca,
          },
        );
        break;
      default:
        // encrypt and wrapKey use the public key in the function; a backup carries the KMS key's id
        // without calling KMS; health calls no KMS action.
        return;
    }
    acknowledge(grantee, {
      id: wildcardArnFinding(this, 'kms', 'key/*'),
      reason:
        'One KMS key per HSM key version, created at run time: no ARN is known at deployment. Statements are ' +
        'limited by condition to asymmetric AWS_KMS keys of the specs Arca creates and, except just after ' +
        'creation, to keys tagged arca:vault.',
    });
    if (use === 'create') {
      acknowledge(grantee, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'kms:CreateKey has no resource; it is limited by condition to the key specs, usage, origin and ' +
          'identifier tags Arca uses. Active tracing: xray:PutTraceSegments and PutTelemetryRecords support ' +
          'no resource-level scoping.',
      });
    }
  }

  /**
   * The ARN a policy names the PIN secret by: a complete ARN as given, or for
   * a name, its ARN with Secrets Manager's six-character suffix as `??????`
   * (what CDK's fromSecretNameV2 grants do).
   */
  private pinSecretArn(pinSecret: string): string {
    if (pinSecret.startsWith('arn:')) {
      if (
        !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/.test(pinSecret)
      ) {
        throw new Error(
          `arca:pkcs11PinSecret: "${pinSecret}" is not the complete ARN of a secret (…:secret:{name}-{6 characters}); give the ARN Secrets Manager shows, or the name`,
        );
      }
      return pinSecret;
    }
    if (!/^[\w/+=.@-]{1,512}$/.test(pinSecret)) {
      throw new Error(`arca:pkcs11PinSecret: "${pinSecret}" is not a secret name`);
    }
    return Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${pinSecret}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  private pkcs11Settings(settings: Pkcs11Settings) {
    const missing: string[] = [];
    const need = <T>(value: T | undefined, contextKey: string, what: string): T | undefined => {
      if (value === undefined || (Array.isArray(value) && value.length === 0)) {
        missing.push(`arca:${contextKey} (${what})`);
      }
      return value;
    };
    const layerArn = need(
      settings.layerArn,
      'pkcs11LayerArn',
      'a Lambda layer with the CloudHSM PKCS#11 library',
    );
    const pinSecret = need(
      settings.pinSecret,
      'pkcs11PinSecret',
      'the Secrets Manager secret holding the PIN',
    );
    const vpcId = need(settings.vpcId, 'hsmVpcId', "the cluster's VPC");
    const subnetIds = need(
      settings.subnetIds,
      'hsmSubnetIds',
      'subnets that reach the HSMs, comma-separated',
    );
    const pkcs11jsBinary = need(
      settings.pkcs11jsBinary,
      'pkcs11jsBinary',
      "pkcs11js's pkcs11.node built for Lambda, linux arm64",
    );
    const securityGroupIds = need(
      settings.securityGroupIds,
      'hsmSecurityGroupIds',
      'security groups the cluster admits, comma-separated',
    );
    if (
      missing.length > 0 ||
      !layerArn ||
      !pinSecret ||
      !vpcId ||
      !subnetIds ||
      !securityGroupIds ||
      !pkcs11jsBinary
    ) {
      throw new Error(
        `arca:hsm=pkcs11 runs the key functions against a CloudHSM cluster through its PKCS#11 library, ` +
          `which Lambda does not have, in the cluster's VPC. Missing: ${missing.join('; ')}.`,
      );
    }
    const check = (values: readonly string[], pattern: RegExp, contextKey: string) => {
      for (const value of values) {
        if (!pattern.test(value)) throw new Error(`arca:${contextKey}: "${value}" is not valid`);
      }
    };
    check([layerArn], /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$/, 'pkcs11LayerArn');
    check([vpcId], /^vpc-[0-9a-f]+$/, 'hsmVpcId');
    check(subnetIds, /^subnet-[0-9a-f]+$/, 'hsmSubnetIds');
    check(securityGroupIds, /^sg-[0-9a-f]+$/, 'hsmSecurityGroupIds');
    if (!existsSync(pkcs11jsBinary)) throw new Error(`arca:pkcs11jsBinary: no file at ${pkcs11jsBinary}`);
    const { backupKeyLabel, slotId } = settings;
    if (slotId !== undefined && parseSlotId(slotId) === undefined) {
      throw new Error(`arca:pkcs11Slot: "${slotId}" is not a slot ID (decimal, or hex with 0x)`);
    }
    if (backupKeyLabel !== undefined && !/^[\x21-\x7e][\x20-\x7e]{0,126}$/.test(backupKeyLabel)) {
      throw new Error(`arca:pkcs11BackupKey: "${backupKeyLabel}" is not a key label (printable ASCII)`);
    }

    // The subnets are given explicitly; the VPC's zones matter only for selections by type, unused here.
    const vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId,
      availabilityZones: Stack.of(this).availabilityZones,
    });
    const subnets = subnetIds.map((subnetId) => {
      const subnet = Subnet.fromSubnetId(this, `Subnet-${subnetId}`, subnetId);
      Validations.of(subnet).acknowledge({
        id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
        reason: "The functions' network interfaces are placed in this subnet; its route table is never read.",
      });
      return subnet;
    });
    const securityGroups = securityGroupIds.map((sg) =>
      SecurityGroup.fromSecurityGroupId(this, `SecurityGroup-${sg}`, sg, { mutable: false }),
    );
    return {
      modulePath: settings.modulePath ?? CLOUDHSM_MODULE,
      tokenLabel: settings.tokenLabel ?? CLOUDHSM_TOKEN,
      ...(slotId !== undefined && { slotId }),
      pinSecret,
      pinSecretArn: this.pinSecretArn(pinSecret),
      ...(backupKeyLabel !== undefined && { backupKeyLabel }),
      options: {
        layers: [LayerVersion.fromLayerVersionArn(this, 'Pkcs11Layer', layerArn)],
        network: { vpc, subnets, securityGroups },
        pkcs11jsBinary,
      },
    };
  }
}

/** Findings are acknowledged on the grantee's role, where the statements land, and nowhere else. */
function acknowledge(grantee: IGrantable, rule: { id: string; reason: string }): void {
  const principal: unknown = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) Validations.of(principal).acknowledge(rule);
}
