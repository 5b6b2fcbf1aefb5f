import { describe, expect, it } from '@jest/globals';
import { ConflictError } from '../common/errors.js';
import {
  assertNotTruncated,
  extentOf,
  LedgerTruncatedError,
  truncationOf,
  type LedgerExtent,
} from './truncation.js';

/** An intact ledger of 20 events, checkpointed at 12 (event 13), rotated at seq 7. */
const intact: LedgerExtent = {
  headSeq: 20,
  checkpointTreeSize: 12,
  checkpointEventSeq: 13,
  merkleLeaves: 20,
  keyFirstSeq: 8,
};

describe('truncationOf', () => {
  it('finds none when every table agrees with the head', () => {
    expect(truncationOf(intact)).toBeUndefined();
    // Checkpointed last, the checkpoint event is the head; rotated last, the new key starts after it.
    expect(
      truncationOf({ ...intact, checkpointTreeSize: 19, checkpointEventSeq: 20, keyFirstSeq: 21 }),
    ).toBeUndefined();
  });

  it('finds none in an empty ledger, nor in one whose genesis key is stored before its first event', () => {
    const empty = {
      headSeq: 0,
      checkpointTreeSize: 0,
      checkpointEventSeq: 0,
      merkleLeaves: 0,
      keyFirstSeq: 0,
    };
    expect(truncationOf(empty)).toBeUndefined();
    expect(truncationOf({ ...empty, keyFirstSeq: 1 })).toBeUndefined();
  });

  it('names leaves beyond the head', () => {
    expect(truncationOf({ ...intact, headSeq: 18 })).toEqual({
      headSeq: 18,
      missing: 2,
      detail: '2 events are missing after seq 18: the stored Merkle tree covers 20 leaves',
    });
    expect(truncationOf({ ...intact, headSeq: 19 })?.detail).toBe(
      '1 event is missing after seq 19: the stored Merkle tree covers 20 leaves',
    );
  });

  it('names a checkpoint beyond the head, and counts from the furthest trace', () => {
    expect(truncationOf({ ...intact, headSeq: 10 })).toEqual({
      headSeq: 10,
      missing: 10,
      detail:
        '10 events are missing after seq 10: the checkpoint of tree size 12 is recorded by event 13; ' +
        'the stored Merkle tree covers 20 leaves',
    });
    // Nodes deleted with the events: the checkpoint still shows it.
    expect(truncationOf({ ...intact, headSeq: 10, merkleLeaves: 10 })).toMatchObject({
      missing: 3,
      detail:
        '3 events are missing after seq 10: the checkpoint of tree size 12 is recorded by event 13',
    });
  });

  it('names a signing key whose rotation event is gone', () => {
    expect(
      truncationOf({
        headSeq: 5,
        checkpointTreeSize: 0,
        checkpointEventSeq: 0,
        merkleLeaves: 5,
        keyFirstSeq: 8,
      }),
    ).toEqual({
      headSeq: 5,
      missing: 2,
      detail:
        '2 events are missing after seq 5: a signing key takes over at seq 8, after a rotation at seq 7',
    });
  });

  it('finds every event gone', () => {
    expect(
      truncationOf({ ...intact, headSeq: 0 })?.detail.startsWith(
        '20 events are missing after seq 0: ',
      ),
    ).toBe(true);
  });
});

describe('assertNotTruncated', () => {
  it('throws a CONFLICT that says what is missing and what to do', () => {
    expect(() => {
      assertNotTruncated(intact);
    }).not.toThrow();
    let thrown: unknown;
    try {
      assertNotTruncated({ ...intact, headSeq: 18 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LedgerTruncatedError);
    expect(thrown).toBeInstanceOf(ConflictError);
    expect(thrown).toMatchObject({
      code: 'CONFLICT',
      message:
        'the ledger is truncated: 2 events are missing after seq 18: the stored Merkle tree covers 20 leaves; restore it from backup',
      details: { headSeq: 18, missing: 2 },
    });
  });
});

describe('extentOf', () => {
  it('reads bigint columns given as text', () => {
    expect(
      extentOf({
        head_seq: '20',
        checkpoint_tree_size: '12',
        checkpoint_event_seq: '13',
        merkle_leaves: '20',
        key_first_seq: 8,
      }),
    ).toEqual(intact);
  });
});
