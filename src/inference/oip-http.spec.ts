import { describe, expect, it } from '@jest/globals';
import { inferEndpointOf } from './oip-http.js';

describe('inferEndpointOf', () => {
  it('names the endpoint of an OIP infer path, query aside', () => {
    expect(inferEndpointOf('/v2/models/credit/infer')).toBe('credit');
    expect(inferEndpointOf('/v2/models/credit-2/infer?debug=1')).toBe('credit-2');
  });

  it('percent-decodes the name as a route parameter is decoded', () => {
    expect(inferEndpointOf('/v2/models/%63redit/infer')).toBe('credit');
    expect(inferEndpointOf('/v2/models/%E0%A4%A/infer')).toBeUndefined();
  });

  it('leaves every other path to Fastify', () => {
    for (const path of [
      '/v2/models/credit',
      '/v2/models/credit/ready',
      '/v2/models//infer',
      '/v2/models/credit/versions/1/infer',
      '/v2/models/infer',
      '/v1/v2/models/credit/infer',
      '/v2/models/credit/infer/',
      '/v2/models/credit/inferx',
    ])
      expect(inferEndpointOf(path)).toBeUndefined();
  });
});
