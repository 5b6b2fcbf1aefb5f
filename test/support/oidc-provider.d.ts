/** The part of oidc-provider (which ships no types) the console sign-in tests use. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    /** After the token endpoint answered: `ctx.body` is the token response. */
    on(event: 'grant.success', listener: (ctx: { body?: Record<string, unknown> }) => void): this;
  }
}
