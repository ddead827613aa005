import {
  ApiMapping,
  DomainName,
  type HttpApi,
  type HttpStage,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';

export interface VaultDomainProps {
  /** Vault hosts are `{vault}.{vaultDomain}`; vault management is on the bare domain. */
  readonly vaultDomain: string;
  /** An ACM certificate in the stack's region covering `*.{vaultDomain}` and `{vaultDomain}`. */
  readonly certificateArn: string;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** Alias records are made only when the zone is given. */
  readonly hostedZone?: { readonly id: string; readonly name: string };
}

/**
 * A vault is a host name: the Azure SDKs reject a path prefix, so every vault
 * gets `{vault}.{vaultDomain}` through one wildcard custom domain, and the
 * handlers read the vault from the Host header.
 */
export class VaultDomain extends Construct {
  readonly wildcard: DomainName;
  readonly apex: DomainName;

  constructor(scope: Construct, id: string, props: VaultDomainProps) {
    super(scope, id);
    const certificate = Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn);
    const zone =
      props.hostedZone &&
      HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: props.hostedZone.id,
        zoneName: props.hostedZone.name,
      });

    const serve = (name: string, domainName: string): DomainName => {
      const domain = new DomainName(this, name, {
        domainName,
        certificate,
        securityPolicy: SecurityPolicy.TLS_1_2,
      });
      new ApiMapping(this, `${name}Mapping`, { api: props.api, domainName: domain, stage: props.stage });
      if (zone) {
        new ARecord(this, `${name}Alias`, {
          zone,
          recordName: domainName,
          target: RecordTarget.fromAlias(
            new ApiGatewayv2DomainProperties(domain.regionalDomainName, domain.regionalHostedZoneId),
          ),
        });
      }
      return domain;
    };
    this.wildcard = serve('Wildcard', `*.${props.vaultDomain}`);
    this.apex = serve('Apex', props.vaultDomain);
  }
}
