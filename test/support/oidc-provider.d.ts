/** The part of oidc-provider (which ships no types) the sign-in tests use. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    /**
     * After the token endpoint answered: `ctx.body` is the token response, `ctx.oidc.params`
     * the request's parameters.
     */
    on(
      event: 'grant.success',
      listener: (ctx: {
        body?: Record<string, unknown>;
        oidc: { params?: Record<string, unknown> };
      }) => void,
    ): this;
  }
}
