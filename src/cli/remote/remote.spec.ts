import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProblemError } from '../../client/problem.js';
import { datasetNameOf } from '../../release/release-run.js';
import { reportFormatOf } from '../commands/report.js';
import { EXIT, exitOf } from '../exit.js';
import { bearerToken, CredentialsError } from './credentials.js';
import { Progress, RemoteUrlError, serviceUrl } from './remote.js';

describe('a client verb’s connection', () => {
  it('takes --url before GATEHOUSE_URL, and keeps a path prefix as a folder', () => {
    expect(serviceUrl({ url: 'https://gh.example/' }, { GATEHOUSE_URL: 'http://x' })).toBe(
      'https://gh.example/',
    );
    expect(serviceUrl({}, { GATEHOUSE_URL: ' https://gh.example/gatehouse?x=1#y ' })).toBe(
      'https://gh.example/gatehouse/',
    );
  });

  it('refuses no URL, another scheme, credentials in it, and any non-URL, as usage errors', () => {
    for (const url of [undefined, '', 'file:///etc/passwd', 'https://u:p@h/', 'not a url'])
      expect(() => serviceUrl({ url }, {})).toThrow(RemoteUrlError);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        try {
          const url = serviceUrl({ url: text }, {});
          expect(url).toMatch(/^https?:\/\/.*\/$/);
        } catch (error) {
          expect(error).toBeInstanceOf(RemoteUrlError);
        }
      }),
    );
  });

  it('reads the token from GATEHOUSE_TOKEN, else the file, and says what is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'abc.def.ghi\n');
    await expect(bearerToken({ tokenFile: file }, { GATEHOUSE_TOKEN: 'env' })).resolves.toBe('env');
    await expect(bearerToken({ tokenFile: file }, {})).resolves.toBe('abc.def.ghi');
    await expect(bearerToken({}, { GATEHOUSE_TOKEN_FILE: file })).resolves.toBe('abc.def.ghi');
    writeFileSync(file, 'two words');
    await expect(bearerToken({ tokenFile: file }, {})).rejects.toThrow(CredentialsError);
    await expect(bearerToken({ tokenFile: join(dir, 'none') }, {})).rejects.toThrow(/ENOENT/);
  });
});

describe('exit statuses', () => {
  it('map the service’s error codes to the documented statuses', () => {
    const of = (code: string) => exitOf(new ProblemError({ code, message: code }));
    expect(of('BAD_USER_INPUT')).toBe(EXIT.usage);
    expect(of('NOT_FOUND')).toBe(EXIT.usage);
    expect(of('GATE_FAILED')).toBe(EXIT.gatesFailed);
    expect(of('UNAUTHENTICATED')).toBe(EXIT.unauthorized);
    expect(of('FORBIDDEN')).toBe(EXIT.unauthorized);
    expect(of('CONFLICT')).toBe(EXIT.conflict);
    expect(of('INTERNAL')).toBe(EXIT.failed);
    expect(exitOf(new CredentialsError('no token'))).toBe(EXIT.unauthorized);
    expect(exitOf(new TypeError('fetch failed'))).toBe(EXIT.failed);
  });

  it('are distinct', () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('small choices of the verbs', () => {
  it('a report’s format from --format, else the file name, else JSON', () => {
    expect(reportFormatOf('PDF', 'x.json')).toBe('PDF');
    expect(reportFormatOf(undefined, 'audit.csv')).toBe('CSV');
    expect(reportFormatOf(undefined, '-')).toBe('JSON');
    expect(() => reportFormatOf('docx', 'x')).toThrow(/--format/);
  });

  it('a dataset name from its file name', () => {
    expect(datasetNameOf('data/German Credit (2).csv')).toBe('german-credit-2');
    expect(datasetNameOf('___.csv')).toBe('dataset');
  });
});

describe('progress', () => {
  function stream(isTTY: boolean) {
    const written: string[] = [];
    const fake = { isTTY, write: (text: string) => written.push(text) };
    return { fake: fake as unknown as NodeJS.WriteStream, written };
  }

  it('is one line rewritten on a terminal, and cleared at the end', () => {
    const { fake, written } = stream(true);
    const progress = new Progress({}, fake);
    progress.say('uploading');
    progress.say('evaluating 40%');
    progress.done();
    expect(written).toEqual(['\r\x1b[2Kuploading', '\r\x1b[2Kevaluating 40%', '\r\x1b[2K']);
  });

  it('says nothing in a CI log or with --json', () => {
    for (const [isTTY, json] of [
      [false, false],
      [true, true],
    ] as const) {
      const { fake, written } = stream(isTTY);
      const progress = new Progress({ json }, fake);
      progress.say('uploading');
      progress.done();
      expect(written).toEqual([]);
    }
  });
});
