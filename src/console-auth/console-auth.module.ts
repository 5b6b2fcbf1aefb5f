import { Global, Module } from '@nestjs/common';
import { SESSION_PRINCIPALS } from '../auth/session-principals.js';
import { ConsoleAuthController } from './console-auth.controller.js';
import { ConsoleAuthRepository } from './console-auth.repository.js';
import { ConsoleAuthService } from './console-auth.service.js';

/** Global: the global guard authenticates a console's requests through it. */
@Global()
@Module({
  controllers: [ConsoleAuthController],
  providers: [
    ConsoleAuthRepository,
    ConsoleAuthService,
    { provide: SESSION_PRINCIPALS, useExisting: ConsoleAuthService },
  ],
  exports: [SESSION_PRINCIPALS],
})
export class ConsoleAuthModule {}
