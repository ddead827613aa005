import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import {
  CloudHSMV2Client,
  type Cluster,
  DescribeClustersCommand,
  type DescribeClustersCommandInput,
  type DescribeClustersCommandOutput,
} from '@aws-sdk/client-cloudhsm-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { type KeyVaultError, ServiceUnavailableError } from '#lib/errors.ts';
import { describeCloudHsmCluster } from '#lib/keys/hsm/cloudhsm-health.ts';
import type { Pkcs11TokenInfo } from '#lib/keys/hsm/pkcs11-health.ts';
import {
  type HsmHealthDeps,
  httpStatusOf,
  makeGetHsmHealth,
  unavailableSummary,
} from '#lib/keys/hsm-health.ts';

/**
 * The registry offers @aws-sdk/client-cloudhsm-v2 3.332 only, older than the
 * middleware types aws-sdk-client-mock 4 is typed against; it mocks the client
 * all the same at run time. The stub is reached through this narrow type.
 */
interface Behaviour {
  resolves(output: Omit<DescribeClustersCommandOutput, '$metadata'>): Behaviour;
  rejects(error: Error): Behaviour;
  callsFake(fake: () => Promise<unknown>): Behaviour;
}
interface CloudHsmStub {
  reset(): void;
  on(command: typeof DescribeClustersCommand): Behaviour;
  commandCalls(
    command: typeof DescribeClustersCommand,
  ): { args: [{ input: DescribeClustersCommandInput }] }[];
}
const cloudHsm = mockClient(
  CloudHSMV2Client as unknown as Parameters<typeof mockClient>[0],
) as unknown as CloudHsmStub;
const client = new CloudHSMV2Client({ region: 'eu-west-1' });
const CLUSTER = 'cluster-abcdefghijk';

/** An AWS SDK error as the client throws it, with a message full of things callers must not see. */
function awsError(name: string): Error {
  return Object.assign(
    new Error(`${name}: User arn:aws:iam::111122223333:role/secret-detail is not authorized`),
    { name, $fault: 'client', $metadata: { requestId: 'req-123' } },
  );
}

const hsm = (id: string, state: string, az: string, ip: string) => ({
  HsmId: id,
  State: state,
  StateMessage: `HSM is ${state.toLowerCase()}`,
  AvailabilityZone: az,
  EniIp: ip,
  EniId: `eni-${id}`,
  SubnetId: `subnet-${az}`,
  ClusterId: CLUSTER,
});

function cluster(overrides: Partial<Cluster> = {}): Cluster {
  return {
    ClusterId: CLUSTER,
    State: 'ACTIVE',
    StateMessage: 'The cluster is active.',
    HsmType: 'hsm1.medium',
    SecurityGroup: 'sg-0123',
    VpcId: 'vpc-0123',
    PreCoPassword: 'do-not-show-me',
    Certificates: { ClusterCsr: '-----BEGIN CERTIFICATE REQUEST-----' },
    TagList: [{ Key: 'owner', Value: 'ops' }],
    Hsms: [
      hsm('hsm-aaaaaaaaaaa', 'ACTIVE', 'eu-west-1a', '10.0.1.10'),
      hsm('hsm-bbbbbbbbbbb', 'ACTIVE', 'eu-west-1b', '10.0.2.10'),
    ],
    ...overrides,
  };
}

/** The health report over the real adapter, for a kms deployment with a CloudHSM cluster. */
function healthWithCluster(extra: Partial<HsmHealthDeps> = {}) {
  return makeGetHsmHealth({
    hsm: 'kms',
    kms: { region: 'eu-west-1' },
    cloudHsm: { clusterId: CLUSTER, describe: () => describeCloudHsmCluster(client, CLUSTER) },
    now: () => new Date('2026-01-02T03:04:05Z'),
    ...extra,
  });
}

describe('CloudHSM health: the DescribeClusters adapter', () => {
  beforeEach(() => cloudHsm.reset());

  it('describes one cluster, filtered by its id, keeping its state and each HSM’s id, state, AZ and ENI IP', async () => {
    cloudHsm.on(DescribeClustersCommand).resolves({ Clusters: [cluster()] });
    const described = await describeCloudHsmCluster(client, CLUSTER);
    const calls = cloudHsm.commandCalls(DescribeClustersCommand);
    assert.equal(calls.length, 1);
    const input = calls[0]?.args[0].input;
    assert.deepEqual(input?.Filters, { clusterIds: [CLUSTER] });
    assert.deepEqual(described, {
      clusterId: CLUSTER,
      state: 'ACTIVE',
      stateMessage: 'The cluster is active.',
      hsms: [
        {
          hsmId: 'hsm-aaaaaaaaaaa',
          state: 'ACTIVE',
          stateMessage: 'HSM is active',
          availabilityZone: 'eu-west-1a',
          eniIp: '10.0.1.10',
        },
        {
          hsmId: 'hsm-bbbbbbbbbbb',
          state: 'ACTIVE',
          stateMessage: 'HSM is active',
          availabilityZone: 'eu-west-1b',
          eniIp: '10.0.2.10',
        },
      ],
    });
    // The pre-crypto-officer password, certificates, tags and network ids stay out.
    const text = JSON.stringify(described);
    for (const hidden of [
      'do-not-show-me',
      'CERTIFICATE',
      'owner',
      'sg-0123',
      'vpc-0123',
      'eni-',
      'subnet-',
    ]) {
      assert.ok(!text.includes(hidden), hidden);
    }
  });

  it('ignores other clusters in the answer, and reports a cluster that is not there as a 503', async () => {
    cloudHsm
      .on(DescribeClustersCommand)
      .resolves({ Clusters: [cluster({ ClusterId: 'cluster-zzzzzzzzzzz' })] });
    await assert.rejects(describeCloudHsmCluster(client, CLUSTER), (error: KeyVaultError) => {
      assert.ok(error instanceof ServiceUnavailableError);
      assert.equal(error.status, 503);
      assert.match(error.message, /cluster-abcdefghijk was not found/);
      return true;
    });
    cloudHsm.on(DescribeClustersCommand).rejects(awsError('CloudHsmResourceNotFoundException'));
    await assert.rejects(describeCloudHsmCluster(client, CLUSTER), /was not found/);
  });

  it('turns SDK errors into a 503 naming at most the exception, never AWS’s message', async () => {
    const cases: [string, RegExp][] = [
      ['CloudHsmAccessDeniedException', /needs cloudhsm:DescribeClusters/],
      ['ThrottlingException', /throttling/],
      [
        'CloudHsmInternalFailureException',
        /could not describe the cluster \(CloudHsmInternalFailureException\)/,
      ],
    ];
    for (const [name, expected] of cases) {
      cloudHsm.reset();
      cloudHsm.on(DescribeClustersCommand).rejects(awsError(name));
      await assert.rejects(describeCloudHsmCluster(client, CLUSTER), (error: KeyVaultError) => {
        assert.ok(error instanceof ServiceUnavailableError, name);
        assert.equal(error.status, 503);
        assert.equal(error.code, 'ServiceUnavailable');
        assert.match(error.message, expected);
        for (const leak of ['arn:aws', '111122223333', 'secret-detail', 'req-123', 'not authorized']) {
          assert.ok(!error.message.includes(leak), `${name} leaks ${leak}`);
        }
        return true;
      });
    }
    // An error with an odd name (not an identifier) is not echoed at all.
    cloudHsm.reset();
    cloudHsm
      .on(DescribeClustersCommand)
      .rejects(Object.assign(new Error('x'), { name: 'arn:aws:boom secret' }));
    await assert.rejects(describeCloudHsmCluster(client, CLUSTER), /\(unknown error\)/);
  });

  it('gives up after its timeout, as a 503, even when the request does not end', async () => {
    cloudHsm.on(DescribeClustersCommand).callsFake(() => new Promise(() => undefined));
    await assert.rejects(
      describeCloudHsmCluster(client, CLUSTER, { timeoutMs: 20 }),
      /did not answer within 20 ms/,
    );
  });

  it('refuses a cluster id that is not one, without calling CloudHSM', async () => {
    await assert.rejects(describeCloudHsmCluster(client, 'my-cluster'), ServiceUnavailableError);
    assert.equal(cloudHsm.commandCalls(DescribeClustersCommand).length, 0);
  });
});

describe('CloudHSM health: the report', () => {
  beforeEach(() => cloudHsm.reset());

  it('a healthy ACTIVE cluster with every HSM ACTIVE: healthy, 200', async () => {
    cloudHsm.on(DescribeClustersCommand).resolves({ Clusters: [cluster()] });
    const report = await healthWithCluster()();
    assert.equal(report.status, 'healthy');
    assert.equal(report.hsm, 'kms');
    assert.equal(report.checkedAt, '2026-01-02T03:04:05.000Z');
    assert.deepEqual(report.kms, { region: 'eu-west-1', status: 'healthy' });
    assert.equal(report.cloudHsm?.status, 'healthy');
    assert.equal(report.cloudHsm?.state, 'ACTIVE');
    assert.equal(report.cloudHsm?.activeHsms, 2);
    assert.equal(report.cloudHsm?.hsms.length, 2);
    assert.equal(httpStatusOf(report), 200);
  });

  it('a DEGRADED cluster: degraded, still 200 (operators read the status)', async () => {
    cloudHsm.on(DescribeClustersCommand).resolves({
      Clusters: [
        cluster({
          State: 'DEGRADED',
          StateMessage: 'An HSM of the cluster is unhealthy.',
          Hsms: [
            hsm('hsm-aaaaaaaaaaa', 'ACTIVE', 'eu-west-1a', '10.0.1.10'),
            hsm('hsm-bbbbbbbbbbb', 'DEGRADED', 'eu-west-1b', '10.0.2.10'),
          ],
        }),
      ],
    });
    const report = await healthWithCluster()();
    assert.equal(report.status, 'degraded');
    assert.equal(report.cloudHsm?.state, 'DEGRADED');
    assert.equal(report.cloudHsm?.stateMessage, 'An HSM of the cluster is unhealthy.');
    assert.equal(report.cloudHsm?.activeHsms, 1);
    assert.deepEqual(
      report.cloudHsm?.hsms.map((h) => [h.hsmId, h.state]),
      [
        ['hsm-aaaaaaaaaaa', 'ACTIVE'],
        ['hsm-bbbbbbbbbbb', 'DEGRADED'],
      ],
    );
    assert.equal(httpStatusOf(report), 200);
  });

  it('an HSM missing: one being replaced degrades the cluster, none left makes it unavailable (503)', async () => {
    cloudHsm.on(DescribeClustersCommand).resolves({
      Clusters: [
        cluster({
          Hsms: [
            hsm('hsm-aaaaaaaaaaa', 'ACTIVE', 'eu-west-1a', '10.0.1.10'),
            hsm('hsm-bbbbbbbbbbb', 'DELETE_IN_PROGRESS', 'eu-west-1b', '10.0.2.10'),
          ],
        }),
      ],
    });
    const oneLeft = await healthWithCluster()();
    assert.equal(oneLeft.status, 'degraded');
    assert.equal(oneLeft.cloudHsm?.activeHsms, 1);
    assert.equal(httpStatusOf(oneLeft), 200);

    cloudHsm.reset();
    cloudHsm.on(DescribeClustersCommand).resolves({ Clusters: [cluster({ Hsms: [] })] });
    const none = await healthWithCluster()();
    assert.equal(none.status, 'unavailable');
    assert.equal(none.cloudHsm?.state, 'ACTIVE');
    assert.equal(none.cloudHsm?.activeHsms, 0);
    assert.equal(httpStatusOf(none), 503);
    assert.match(unavailableSummary(none), /CloudHSM cluster cluster-abcdefghijk is not usable/);

    cloudHsm.reset();
    cloudHsm.on(DescribeClustersCommand).resolves({ Clusters: [cluster({ Hsms: undefined })] });
    assert.equal((await healthWithCluster()()).status, 'unavailable');
  });

  it('a cluster that is not initialised or being deleted: unavailable', async () => {
    for (const state of ['UNINITIALIZED', 'INITIALIZED', 'DELETE_IN_PROGRESS']) {
      cloudHsm.reset();
      cloudHsm.on(DescribeClustersCommand).resolves({ Clusters: [cluster({ State: state })] });
      assert.equal((await healthWithCluster()()).status, 'unavailable', state);
    }
  });

  it('an SDK error: unavailable, 503, with our message and nothing of AWS’s', async () => {
    cloudHsm.on(DescribeClustersCommand).rejects(awsError('CloudHsmAccessDeniedException'));
    const report = await healthWithCluster()();
    assert.equal(report.status, 'unavailable');
    assert.equal(httpStatusOf(report), 503);
    assert.equal(report.cloudHsm?.state, 'UNKNOWN');
    assert.match(report.cloudHsm?.error ?? '', /CloudHsmAccessDeniedException/);
    const text = JSON.stringify(report);
    for (const leak of ['arn:aws', '111122223333', 'secret-detail', 'req-123', 'not authorized']) {
      assert.ok(!text.includes(leak), leak);
    }
  });
});

describe('HSM health: the PKCS#11 token and the modes', () => {
  const token = (over: Partial<Pkcs11TokenInfo> = {}): Pkcs11TokenInfo => ({
    tokenLabel: 'arca-hsm',
    manufacturer: 'SoftHSM project',
    model: 'SoftHSM v2',
    loggedIn: true,
    pinLocked: false,
    pinCountLow: false,
    ...over,
  });
  const pkcs11 = (probe: () => Promise<Pkcs11TokenInfo>) =>
    makeGetHsmHealth({ hsm: 'pkcs11', pkcs11: { tokenLabel: 'arca-hsm', probe }, now: () => new Date() });

  it('a reachable token: healthy, with no cloudHsm part when no cluster is configured', async () => {
    const report = await pkcs11(async () => token({ freePublicMemory: 10, totalPublicMemory: 20 }))();
    assert.equal(report.status, 'healthy');
    assert.equal(report.pkcs11?.reachable, true);
    assert.equal(report.pkcs11?.tokenLabel, 'arca-hsm');
    assert.equal(report.pkcs11?.freePublicMemory, 10);
    assert.equal(report.cloudHsm, undefined);
    assert.equal(report.kms, undefined);
  });

  it('a PIN close to locking degrades; a locked PIN or a token that cannot be opened is unavailable', async () => {
    assert.equal((await pkcs11(async () => token({ pinCountLow: true }))()).status, 'degraded');
    assert.equal((await pkcs11(async () => token({ pinLocked: true }))()).status, 'unavailable');
    const unreachable = await pkcs11(async () => {
      throw new ServiceUnavailableError(
        'The HSM failed to open a session on token "arca-hsm" (CKR_PIN_INCORRECT).',
      );
    })();
    assert.equal(unreachable.status, 'unavailable');
    assert.deepEqual(unreachable.pkcs11, {
      tokenLabel: 'arca-hsm',
      reachable: false,
      status: 'unavailable',
      error: 'The HSM failed to open a session on token "arca-hsm" (CKR_PIN_INCORRECT).',
    });
    // Anything but our own errors is not echoed.
    const odd = await pkcs11(async () => {
      throw new Error('/secret/path/pin-file: 1234');
    })();
    assert.equal(odd.pkcs11?.error, 'The check failed unexpectedly.');
  });

  it('the worst part wins: a healthy token with an unavailable cluster is unavailable', async () => {
    cloudHsm.reset();
    cloudHsm.on(DescribeClustersCommand).rejects(awsError('ThrottlingException'));
    const report = await makeGetHsmHealth({
      hsm: 'pkcs11',
      pkcs11: { tokenLabel: 'arca-hsm', probe: async () => token() },
      cloudHsm: { clusterId: CLUSTER, describe: () => describeCloudHsmCluster(client, CLUSTER) },
      now: () => new Date(),
    })();
    assert.equal(report.pkcs11?.status, 'healthy');
    assert.equal(report.cloudHsm?.status, 'unavailable');
    assert.equal(report.status, 'unavailable');
  });

  it('off: nothing is checked, status off, 200', async () => {
    let called = false;
    const report = await makeGetHsmHealth({
      hsm: 'off',
      cloudHsm: {
        clusterId: CLUSTER,
        describe: async () => {
          called = true;
          throw new Error('not expected');
        },
      },
      now: () => new Date(),
    })();
    assert.equal(report.status, 'off');
    assert.equal(report.hsm, 'off');
    assert.equal(called, false);
    assert.equal(httpStatusOf(report), 200);
  });
});
