import { describe, expect, it } from '@jest/globals';
import type { DeviceAuthorizationResponse } from 'openid-client';
import { ConfigError } from '../../config/config.js';
import { instructions, loginRequestOf } from './login.js';

const AUTHORIZATION: DeviceAuthorizationResponse = {
  device_code: 'dc',
  user_code: 'BDWP-HQPK',
  verification_uri: 'https://idp.example.com/device',
  expires_in: 600,
};

describe('loginRequestOf', () => {
  it('takes each option, else its environment variable, and the default scope', () => {
    expect(
      loginRequestOf(
        { clientId: 'from-option' },
        {
          GATEHOUSE_OIDC_ISSUER: 'https://idp.example.com',
          GATEHOUSE_OIDC_CLIENT_ID: 'from-env',
          GATEHOUSE_OIDC_RESOURCE: 'https://gatehouse.example.com',
        },
      ),
    ).toEqual({
      issuer: 'https://idp.example.com',
      clientId: 'from-option',
      scope: 'openid offline_access',
      resource: 'https://gatehouse.example.com',
      audience: undefined,
    });
    expect(
      loginRequestOf(
        { issuer: 'https://idp.example.com', scope: 'openid', audience: 'gatehouse' },
        { GATEHOUSE_OIDC_CLIENT_ID: 'cli', GATEHOUSE_OIDC_SCOPE: 'ignored' },
      ),
    ).toMatchObject({ scope: 'openid', audience: 'gatehouse' });
  });

  it.each([
    [{}, {}, '--issuer: expected the provider’s issuer URL (or GATEHOUSE_OIDC_ISSUER)'],
    [
      { issuer: 'https://idp.example.com' },
      { GATEHOUSE_OIDC_CLIENT_ID: ' ' },
      '--client-id: expected the command’s client id at the provider (or GATEHOUSE_OIDC_CLIENT_ID)',
    ],
    [
      { issuer: 'http://idp.example.com', clientId: 'cli' },
      {},
      '--issuer: expected an https URL (plain http only for a provider on this machine), got "http://idp.example.com"',
    ],
    [
      { issuer: 'https://idp.example.com', clientId: 'cli', resource: 'gatehouse' },
      {},
      '--resource: expected an absolute URI (RFC 8707), e.g. https://gatehouse.example.com, got "gatehouse"',
    ],
  ])('refuses %p %p naming the option', (options, env, message) => {
    expect(() => loginRequestOf(options, env)).toThrow(ConfigError);
    expect(() => loginRequestOf(options, env)).toThrow(message);
  });
});

describe('instructions', () => {
  it('gives the page with the code in it when the provider has one, and the code to check', () => {
    expect(
      instructions({
        ...AUTHORIZATION,
        verification_uri_complete: 'https://idp.example.com/device?user_code=BDWP-HQPK',
      }),
    ).toBe(
      'To sign in, open https://idp.example.com/device?user_code=BDWP-HQPK\n' +
        'and check that it shows the code BDWP-HQPK.\n' +
        'Waiting for the sign-in (Ctrl-C to stop)…\n',
    );
  });

  it('else the page and the code to enter', () => {
    expect(instructions(AUTHORIZATION)).toBe(
      'To sign in, open https://idp.example.com/device\n' +
        'and enter the code BDWP-HQPK.\n' +
        'Waiting for the sign-in (Ctrl-C to stop)…\n',
    );
  });

  it('lets no terminal control sequence from the provider through', () => {
    const text = instructions({
      ...AUTHORIZATION,
      user_code: 'AB\u001b]0;pwned\u0007CD',
      verification_uri: 'https://idp.example.com/\u001b[2Jdevice',
    });
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('the code AB?]0;pwned?CD');
  });
});
