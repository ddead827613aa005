import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadParameterError } from '#lib/errors.ts';
import { vaultUrlFor } from '#lib/events/events-config.ts';
import { notifyDaysFrom, thresholdFor } from '#lib/events/expiry-sweep.ts';
import { tableStreamEvents } from '#lib/events/stream-events.ts';
import type { StreamImage } from '#lib/events/vault-events.ts';
import { addDuration, nominalDays, parseIsoDuration, subtractDuration } from '#lib/keys/iso-duration.ts';
import {
  notifyDaysOf,
  type RotationPolicyInput,
  rotationDueAt,
  rotationPolicyBundle,
  validateRotationPolicy,
} from '#lib/keys/rotation-policy.ts';
import { ROTATION_POLICIES_COLLECTION, ROTATION_POLICY_SK } from '#lib/store/dynamo-key-store.ts';

const DAY = 86_400;
/** 2026-01-31T00:00:00Z: the end of a month, where calendar arithmetic shows. */
const JAN_31 = Date.UTC(2026, 0, 31) / 1000;

const rotate = (trigger: Record<string, string | null>) => ({ trigger, action: { type: 'Rotate' } });
const notify = (timeBeforeExpiry: string) => ({ trigger: { timeBeforeExpiry }, action: { type: 'Notify' } });

/** The BadParameter message a policy is refused with. */
function refusal(input: RotationPolicyInput): string {
  try {
    validateRotationPolicy(input);
  } catch (error) {
    assert.ok(error instanceof BadParameterError, `not a BadParameter: ${String(error)}`);
    assert.equal(error.status, 400);
    return error.message;
  }
  assert.fail('the policy was accepted');
}

describe('ISO 8601 durations', () => {
  it('reads years, months, weeks, days and clock parts', () => {
    assert.deepEqual(parseIsoDuration('P1Y2M3W4DT5H6M7S', 'f'), {
      years: 1,
      months: 2,
      weeks: 3,
      days: 4,
      hours: 5,
      minutes: 6,
      seconds: 7,
    });
    assert.equal(parseIsoDuration('P90D', 'f').days, 90);
    assert.equal(parseIsoDuration('PT48H', 'f').hours, 48);
    assert.equal(parseIsoDuration('p2m', 'f').months, 2);
  });

  it('refuses what is not a whole, positive ISO 8601 duration, naming the field', () => {
    for (const bad of ['', 'P', 'PT', 'P1YT', '90D', 'P-1D', 'P1.5D', 'P1D2Y', 'P 1D', 'PT1D', 'P1H']) {
      assert.throws(
        () => parseIsoDuration(bad, 'attributes.expiryTime'),
        (error: Error) => {
          assert.ok(error instanceof BadParameterError, bad);
          assert.match(error.message, /^attributes\.expiryTime must be an ISO 8601 duration/);
          return true;
        },
      );
    }
  });

  it('adds and subtracts by the calendar, then the clock', () => {
    assert.equal(
      new Date(addDuration(JAN_31, parseIsoDuration('P1M', 'f')) * 1000).toISOString(),
      '2026-03-03T00:00:00.000Z', // 31 February rolls over, as Date does
    );
    assert.equal(addDuration(JAN_31, parseIsoDuration('P90D', 'f')), JAN_31 + 90 * DAY);
    assert.equal(addDuration(JAN_31, parseIsoDuration('P1W', 'f')), JAN_31 + 7 * DAY);
    assert.equal(addDuration(JAN_31, parseIsoDuration('PT48H', 'f')), JAN_31 + 2 * DAY);
    assert.equal(subtractDuration(JAN_31, parseIsoDuration('P30D', 'f')), JAN_31 - 30 * DAY);
    assert.equal(
      new Date(addDuration(JAN_31, parseIsoDuration('P1Y', 'f')) * 1000).toISOString(),
      '2027-01-31T00:00:00.000Z',
    );
  });

  it('measures months as 30 days and years as 365 for comparisons, rounding up to days', () => {
    assert.equal(nominalDays(parseIsoDuration('P1M', 'f')), 30);
    assert.equal(nominalDays(parseIsoDuration('P1Y', 'f')), 365);
    assert.equal(nominalDays(parseIsoDuration('PT36H', 'f')), 2);
    assert.equal(nominalDays(parseIsoDuration('P2W', 'f')), 14);
  });
});

describe('rotation policy validation', () => {
  it("accepts the specification's example and keeps it as sent", () => {
    const policy = validateRotationPolicy({
      lifetimeActions: [rotate({ timeAfterCreate: 'P90D' }), notify('P30D')],
      attributes: { expiryTime: 'P2Y' },
    });
    assert.deepEqual(policy, {
      lifetimeActions: [
        { trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } },
        { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } },
      ],
      attributes: { expiryTime: 'P2Y' },
    });
  });

  it('takes action types in any case and answers them canonically; a null trigger member is absent', () => {
    const policy = validateRotationPolicy({
      lifetimeActions: [
        { trigger: { timeAfterCreate: 'P18M', timeBeforeExpiry: null }, action: { type: 'rOtAtE' } },
        { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'NOTIFY' } },
      ],
    });
    assert.deepEqual(
      policy.lifetimeActions.map((a) => [a.action.type, a.trigger]),
      [
        ['Rotate', { timeAfterCreate: 'P18M' }],
        ['Notify', { timeBeforeExpiry: 'P30D' }],
      ],
    );
    assert.deepEqual(policy.attributes, {});
  });

  it("adds Azure's default Notify (30 days before expiry) when the policy has none", () => {
    assert.deepEqual(
      validateRotationPolicy({ lifetimeActions: [rotate({ timeAfterCreate: 'P2M' })] }).lifetimeActions,
      [
        { trigger: { timeAfterCreate: 'P2M' }, action: { type: 'Rotate' } },
        { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } },
      ],
    );
    assert.deepEqual(validateRotationPolicy({}).lifetimeActions, [
      { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } },
    ]);
    // A Notify of its own replaces the default.
    assert.deepEqual(validateRotationPolicy({ lifetimeActions: [notify('P10D')] }).lifetimeActions, [
      { trigger: { timeBeforeExpiry: 'P10D' }, action: { type: 'Notify' } },
    ]);
  });

  it('refuses an unknown or missing action type', () => {
    assert.equal(
      refusal({ lifetimeActions: [{ trigger: { timeAfterCreate: 'P30D' }, action: { type: 'Delete' } }] }),
      'lifetimeActions[0].action.type must be Rotate or Notify.',
    );
    assert.equal(
      refusal({ lifetimeActions: [notify('P30D'), { trigger: { timeAfterCreate: 'P30D' } }] }),
      'lifetimeActions[1].action.type must be Rotate or Notify.',
    );
  });

  it('refuses an action with no trigger or with both', () => {
    const both =
      /^lifetimeActions\[0\]\.trigger must set exactly one of timeAfterCreate and timeBeforeExpiry/;
    assert.match(refusal({ lifetimeActions: [rotate({})] }), both);
    assert.match(refusal({ lifetimeActions: [{ action: { type: 'Rotate' } }] }), both);
    assert.match(
      refusal({ lifetimeActions: [rotate({ timeAfterCreate: 'P30D', timeBeforeExpiry: 'P30D' })] }),
      both,
    );
  });

  it('refuses Notify at a time after creation', () => {
    assert.match(
      refusal({ lifetimeActions: [{ trigger: { timeAfterCreate: 'P30D' }, action: { type: 'Notify' } }] }),
      /^lifetimeActions\[0\]\.trigger: a Notify action is triggered by timeBeforeExpiry only/,
    );
  });

  it('refuses a second Rotate or a second Notify', () => {
    assert.match(
      refusal({
        lifetimeActions: [rotate({ timeAfterCreate: 'P30D' }), rotate({ timeAfterCreate: 'P60D' })],
      }),
      /at most one Rotate action and one Notify action; lifetimeActions\[1\] is a second Rotate/,
    );
    assert.match(
      refusal({ lifetimeActions: [notify('P30D'), notify('P10D')] }),
      /lifetimeActions\[1\] is a second Notify/,
    );
  });

  it('refuses durations that are not ISO 8601, naming the field', () => {
    assert.match(
      refusal({ lifetimeActions: [rotate({ timeAfterCreate: '90 days' })] }),
      /^lifetimeActions\[0\]\.trigger\.timeAfterCreate must be an ISO 8601 duration/,
    );
    assert.match(
      refusal({ lifetimeActions: [notify('30')] }),
      /^lifetimeActions\[0\]\.trigger\.timeBeforeExpiry must be an ISO 8601 duration/,
    );
    assert.match(
      refusal({ attributes: { expiryTime: 'two years' } }),
      /^attributes\.expiryTime must be an ISO/,
    );
    assert.match(
      refusal({ attributes: { expiryTime: 'P101Y' } }),
      /^attributes\.expiryTime must be at most 100 years/,
    );
  });

  it('refuses an expiryTime under 28 days, and takes 28 days, 4 weeks and a month', () => {
    for (const short of ['P27D', 'PT48H', 'P3W', 'P27DT23H59M59S']) {
      assert.equal(
        refusal({ attributes: { expiryTime: short } }),
        'attributes.expiryTime must be at least 28 days (P28D).',
        short,
      );
    }
    for (const ok of ['P28D', 'P4W', 'P1M', 'PT672H']) {
      assert.equal(validateRotationPolicy({ attributes: { expiryTime: ok } }).attributes.expiryTime, ok);
    }
  });

  it('refuses triggers under 7 days', () => {
    assert.equal(
      refusal({ lifetimeActions: [rotate({ timeAfterCreate: 'P6D' })] }),
      'lifetimeActions[0].trigger.timeAfterCreate must be at least 7 days (P7D).',
    );
    assert.equal(
      refusal({
        lifetimeActions: [rotate({ timeBeforeExpiry: 'PT100H' })],
        attributes: { expiryTime: 'P90D' },
      }),
      'lifetimeActions[0].trigger.timeBeforeExpiry must be at least 7 days (P7D).',
    );
    assert.equal(
      refusal({ lifetimeActions: [notify('P6D')] }),
      'lifetimeActions[0].trigger.timeBeforeExpiry must be at least 7 days (P7D).',
    );
    assert.ok(validateRotationPolicy({ lifetimeActions: [rotate({ timeAfterCreate: 'P7D' })] }));
  });

  it('keeps a Rotate trigger 7 days clear of creation and of expiry', () => {
    const expiry = { expiryTime: 'P90D' };
    assert.match(
      refusal({ lifetimeActions: [rotate({ timeAfterCreate: 'P84D' })], attributes: expiry }),
      /^lifetimeActions\[0\]\.trigger\.timeAfterCreate must be at least 7 days shorter than attributes\.expiryTime/,
    );
    assert.match(
      refusal({ lifetimeActions: [rotate({ timeBeforeExpiry: 'P84D' })], attributes: expiry }),
      /^lifetimeActions\[0\]\.trigger\.timeBeforeExpiry must be at least 7 days shorter than attributes\.expiryTime/,
    );
    assert.match(
      refusal({ lifetimeActions: [rotate({ timeBeforeExpiry: 'P1Y' })], attributes: { expiryTime: 'P1Y' } }),
      /timeBeforeExpiry must be at least 7 days shorter/,
    );
    for (const trigger of [{ timeAfterCreate: 'P83D' }, { timeBeforeExpiry: 'P83D' }] as Record<
      string,
      string
    >[]) {
      assert.ok(validateRotationPolicy({ lifetimeActions: [rotate(trigger)], attributes: expiry }));
    }
    // Without an expiryTime there is nothing to be clear of.
    assert.ok(validateRotationPolicy({ lifetimeActions: [rotate({ timeAfterCreate: 'P5Y' })] }));
  });

  it('keeps Notify shorter than expiryTime and within the 90 days the expiry sweep looks ahead', () => {
    assert.equal(
      refusal({ lifetimeActions: [notify('P30D')], attributes: { expiryTime: 'P30D' } }),
      'lifetimeActions[0].trigger.timeBeforeExpiry must be shorter than attributes.expiryTime.',
    );
    assert.match(
      refusal({ lifetimeActions: [notify('P91D')] }),
      /^lifetimeActions\[0\]\.trigger\.timeBeforeExpiry must be at most 90 days \(P90D\)/,
    );
    assert.ok(
      validateRotationPolicy({ lifetimeActions: [notify('P3M')], attributes: { expiryTime: 'P1Y' } }),
    );
    assert.ok(
      validateRotationPolicy({ lifetimeActions: [notify('P29D')], attributes: { expiryTime: 'P30D' } }),
    );
  });
});

describe('rotation due times', () => {
  const created = JAN_31;
  const policy = (trigger: Record<string, string>) =>
    validateRotationPolicy({ lifetimeActions: [rotate(trigger)], attributes: { expiryTime: 'P1Y' } });

  it('is created + timeAfterCreate, by the calendar', () => {
    assert.equal(rotationDueAt(policy({ timeAfterCreate: 'P90D' }), { created }), created + 90 * DAY);
    assert.equal(
      new Date(
        (rotationDueAt(policy({ timeAfterCreate: 'P2M' }), { created }) as number) * 1000,
      ).toISOString(),
      '2026-03-31T00:00:00.000Z',
    );
  });

  it('is exp - timeBeforeExpiry, and never for a version without an expiry', () => {
    const exp = created + 365 * DAY;
    assert.equal(rotationDueAt(policy({ timeBeforeExpiry: 'P30D' }), { created, exp }), exp - 30 * DAY);
    assert.equal(rotationDueAt(policy({ timeBeforeExpiry: 'P30D' }), { created }), undefined);
  });

  it('is never for a policy that only notifies', () => {
    assert.equal(rotationDueAt(validateRotationPolicy({}), { created, exp: created + DAY }), undefined);
  });
});

describe('Notify thresholds for the expiry sweep', () => {
  const stored = (input: RotationPolicyInput) => JSON.stringify(validateRotationPolicy(input));

  it("reads a stored policy's Notify in whole days, and the default's as 30", () => {
    assert.equal(notifyDaysOf(stored({ lifetimeActions: [notify('P45D')] })), 45);
    assert.equal(notifyDaysOf(stored({ lifetimeActions: [notify('P2M')] })), 60);
    assert.equal(notifyDaysOf(stored({ lifetimeActions: [rotate({ timeAfterCreate: 'P90D' })] })), 30);
    assert.equal(notifyDaysOf('{"lifetimeActions":[]}'), undefined);
    assert.equal(notifyDaysOf('not json'), undefined);
  });

  it('puts a policy ahead of the tag and the default, within 1-90 days', () => {
    const tagged = { tags: { 'arca-near-expiry-days': '60' } };
    assert.equal(thresholdFor(tagged, 45), 45);
    assert.equal(thresholdFor(tagged), 60);
    assert.equal(thresholdFor({}, 14), 14);
    assert.equal(thresholdFor({}), 30);
    assert.equal(thresholdFor(tagged, 120), 60);
  });

  it('maps key item keys to their policies thresholds, leaving out keys without one', async () => {
    const days = await notifyDaysFrom(
      {
        rotationPoliciesOf: async (pks) => {
          assert.deepEqual(pks, ['payments/keys/a', 'payments/keys/b']);
          return new Map([['payments/keys/a', stored({ lifetimeActions: [notify('P14D')] })]]);
        },
      },
      ['payments/keys/a', 'payments/keys/b'],
    );
    assert.deepEqual([...days], [['payments/keys/a', 14]]);
  });
});

describe('KeyRotationPolicy answers', () => {
  it('gives the stored policy its id and times', () => {
    const policy = JSON.stringify(
      validateRotationPolicy({
        lifetimeActions: [rotate({ timeAfterCreate: 'P90D' }), notify('P30D')],
        attributes: { expiryTime: 'P2Y' },
      }),
    );
    assert.deepEqual(
      rotationPolicyBundle('https://myvault.vault.example.com', 'Key01', {
        policy,
        created: 10,
        updated: 20,
      }),
      {
        id: 'https://myvault.vault.example.com/keys/Key01/rotationpolicy',
        lifetimeActions: [
          { trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } },
          { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } },
        ],
        attributes: { expiryTime: 'P2Y', created: 10, updated: 20 },
      },
    );
  });

  it("answers a key without a policy with Azure's default: Notify 30 days before expiry, no id, no times", () => {
    assert.deepEqual(rotationPolicyBundle('https://v.example', 'k', undefined), {
      lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }],
      attributes: {},
    });
  });
});

describe('rotation policy items on the table stream', () => {
  const policyImage = (extra: StreamImage = {}): StreamImage => ({
    pk: { S: 'payments/keys/signing' },
    sk: { S: ROTATION_POLICY_SK },
    policy: { S: JSON.stringify(validateRotationPolicy({})) },
    created: { N: '1700000000' },
    updated: { N: '1700000000' },
    gsi1pk: { S: ROTATION_POLICIES_COLLECTION },
    gsi1sk: { S: 'payments/signing' },
    vault: { S: 'payments' },
    displayName: { S: 'Signing' },
    ...extra,
  });
  const record = (
    eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
    oldImage?: StreamImage,
    newImage?: StreamImage,
  ) => ({
    eventName,
    dynamodb: { SequenceNumber: `${eventName}-1`, OldImage: oldImage, NewImage: newImage },
  });

  it('map to no event and are never unreadable: stored, changed, marked by a rotation, purged', () => {
    const marked = policyImage({ rotatedFrom: { S: 'a'.repeat(32) }, rotatedAt: { N: '1700000100' } });
    const mapped = tableStreamEvents(
      [
        record('INSERT', undefined, policyImage()),
        record('MODIFY', policyImage(), policyImage({ updated: { N: '1700000050' } })),
        record('MODIFY', policyImage(), marked),
        record('REMOVE', marked, undefined),
      ],
      vaultUrlFor('vault.example.com'),
    );
    assert.equal(mapped.length, 4);
    for (const r of mapped) {
      assert.deepEqual(r.events, [], r.sequenceNumber);
      assert.equal(r.unreadable, undefined, r.sequenceNumber);
    }
  });

  it('while a version item of the same key still maps to KeyNewVersionCreated (the check above can fail)', () => {
    const version = 'b'.repeat(32);
    const [mapped] = tableStreamEvents(
      [
        record('INSERT', undefined, {
          pk: { S: 'payments/keys/signing' },
          sk: { S: `v#${version}` },
          version: { S: version },
          displayName: { S: 'Signing' },
          attrs: { M: { created: { N: '1700000000' } } },
        }),
      ],
      vaultUrlFor('vault.example.com'),
    );
    assert.deepEqual(
      mapped?.events.map((e) => e.eventType),
      ['Microsoft.KeyVault.KeyNewVersionCreated'],
    );
  });
});
