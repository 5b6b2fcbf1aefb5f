import { describe, expect, it } from '@jest/globals';
import {
  downloadName,
  exportedReportOf,
  parsePinnedJwks,
  reportFileKind,
  reportPath,
} from './report-files.js';

const KEY = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
  kid: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
  alg: 'EdDSA',
  use: 'sig',
};

describe('reportPath', () => {
  it('names the format by extension and escapes the id', () => {
    expect(reportPath('7320eb84', 'PDF')).toBe('/v1/reports/7320eb84.pdf');
    expect(reportPath('a/b', 'JSON')).toBe('/v1/reports/a%2Fb.json');
  });
});

describe('downloadName', () => {
  it("takes the service's file name", () => {
    expect(downloadName('attachment; filename="gatehouse-report-1.csv"', 'x.csv')).toBe(
      'gatehouse-report-1.csv',
    );
  });

  it('falls back on a missing header or a name with a path or odd characters', () => {
    expect(downloadName(null, 'x.json')).toBe('x.json');
    expect(downloadName('attachment; filename="../etc/passwd"', 'x.json')).toBe('x.json');
    expect(downloadName('attachment; filename="a b.pdf"', 'x.pdf')).toBe('x.pdf');
  });
});

describe('reportFileKind', () => {
  it('tells the JSON report from its PDF and CSV renderings', () => {
    expect(reportFileKind('{"report":{},"signature":"x"}')).toBe('json');
    expect(reportFileKind('  \n{"report":{}}')).toBe('json');
    expect(reportFileKind('%PDF-1.7\n%…')).toBe('pdf');
    expect(reportFileKind('seq,ts,type,subject,actor\n1,2026-…')).toBe('csv');
    expect(reportFileKind('hello')).toBe('other');
    expect(reportFileKind('')).toBe('other');
  });
});

describe('parsePinnedJwks', () => {
  it('reads a JWK set and names its kids', () => {
    const pinned = parsePinnedJwks(JSON.stringify({ keys: [KEY] }));
    expect(pinned).toEqual({ ok: true, jwks: { keys: [KEY] }, kids: [KEY.kid] });
  });

  it('names what is wrong with a file that is not a JWK set', () => {
    expect(parsePinnedJwks('  ')).toEqual({
      ok: false,
      problem: 'the JWKS is empty: paste it or choose its file',
    });
    expect(parsePinnedJwks('{"keys":')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/^the JWKS is not JSON: /),
    });
    expect(parsePinnedJwks(JSON.stringify([KEY]))).toEqual({
      ok: false,
      problem: 'the JWKS must be a JWK set: {"keys": [...]}',
    });
    expect(parsePinnedJwks('{"keys":[]}')).toEqual({
      ok: false,
      problem: 'keys: the JWKS holds no key',
    });
    expect(parsePinnedJwks('{"keys":["k"]}')).toEqual({
      ok: false,
      problem: 'keys[0]: must be a JWK object',
    });
    const noKid = { ...KEY, kid: undefined };
    expect(parsePinnedJwks(JSON.stringify({ keys: [KEY, noKid] }))).toEqual({
      ok: false,
      problem: 'keys[1].kid: must be a string',
    });
  });
});

describe('exportedReportOf', () => {
  const event = {
    seq: 42,
    ts: '2026-12-07T10:00:00.000Z',
    actor: { sub: 'audrey' },
    payload: {
      reportId: '7320eb84-0000-4000-8000-000000000000',
      subject: 'model:credit-risk',
      format: 'PDF',
      sha256: 'a'.repeat(64),
      events: 12,
      treeSize: 40,
      rootHash: 'b'.repeat(64),
      kid: 'k',
    },
  };

  it('reads the report a report.exported event records', () => {
    expect(exportedReportOf(event)).toEqual({
      id: '7320eb84-0000-4000-8000-000000000000',
      subject: 'model:credit-risk',
      format: 'PDF',
      sha256: 'a'.repeat(64),
      eventCount: 12,
      treeSize: 40,
      seq: 42,
      ts: '2026-12-07T10:00:00.000Z',
      exportedBy: 'audrey',
    });
  });

  it('is null for a payload of another shape', () => {
    expect(exportedReportOf({ ...event, payload: { ...event.payload, format: 'XML' } })).toBeNull();
    expect(exportedReportOf({ ...event, payload: { reportId: 'x' } })).toBeNull();
  });
});
