import { Body, Controller, Get, HttpCode, Logger, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/decorators.js';
import { consoleCookieOptions, SESSION_COOKIE, SIGN_IN_COOKIE } from './console-cookies.js';
import {
  ConsoleAuthService,
  SIGN_IN_TTL_SECONDS,
  type ConsoleSessionView,
  type NewSession,
} from './console-auth.service.js';
import { SignInFailedError, signInFailedLocation } from './sign-in-failure.js';

/**
 * Sign-in for the web console, the browser holding only a session cookie (no token). Every
 * route is public to the guard: each one is how a browser gets or ends a session, and checks
 * the cookie, CSRF token or Origin it needs itself.
 */
@Controller('console/auth')
export class ConsoleAuthController {
  private static readonly logger = new Logger('ConsoleAuth');

  constructor(private readonly service: ConsoleAuthService) {}

  @Get('login')
  @Public()
  async login(
    @Query('returnTo') returnTo: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { url, state } = await this.service.beginSignIn(returnTo);
    void reply
      .setCookie(SIGN_IN_COOKIE, state, consoleCookieOptions(SIGN_IN_COOKIE, SIGN_IN_TTL_SECONDS))
      .redirect(url, 302);
  }

  @Get('callback')
  @Public()
  async callback(
    @Query('state') state: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    void reply.setCookie(SIGN_IN_COOKIE, '', consoleCookieOptions(SIGN_IN_COOKIE, 0));
    try {
      const { session, returnTo } = await this.service.completeSignIn(request, state);
      void setSession(reply, session).redirect(returnTo, 302);
    } catch (error) {
      // The browser arrives here from the provider, a person behind it: back to the console,
      // which says in words what went wrong, rather than a JSON error page.
      if (!(error instanceof SignInFailedError)) throw error;
      ConsoleAuthController.logger.warn(
        `console sign-in failed (${error.reason}): ${error.message}`,
      );
      void reply.redirect(signInFailedLocation(error.reason), 302);
    }
  }

  @Get('session')
  @Public()
  session(@Req() request: FastifyRequest): Promise<ConsoleSessionView> {
    return this.service.session(request);
  }

  @Post('logout')
  @Public()
  @HttpCode(204)
  async logout(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.service.signOut(request);
    void reply.setCookie(SESSION_COOKIE, '', consoleCookieOptions(SESSION_COOKIE, 0));
  }

  @Post('dev-login')
  @Public()
  @HttpCode(200)
  async devLogin(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConsoleSessionView> {
    const session = await this.service.devSignIn(request, body);
    setSession(reply, session);
    return session.view;
  }
}

function setSession(reply: FastifyReply, session: NewSession): FastifyReply {
  return reply.setCookie(
    SESSION_COOKIE,
    session.id,
    consoleCookieOptions(SESSION_COOKIE, session.maxAgeSeconds),
  );
}
