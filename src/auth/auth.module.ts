import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { loadOrCreateDevIssuerKey } from './dev-issuer.js';
import { MeResolver } from './me.resolver.js';
import { TokenVerifier } from './token-verifier.js';

@Global()
@Module({
  providers: [
    {
      provide: TokenVerifier,
      inject: [CONFIG],
      useFactory: async (config: Config) =>
        TokenVerifier.create(
          config.auth,
          config.auth.devIssuer ? await loadOrCreateDevIssuerKey(config.dataDir) : undefined,
        ),
    },
    AuthService,
    { provide: APP_GUARD, useClass: AuthGuard },
    MeResolver,
  ],
  exports: [AuthService],
})
export class AuthModule {}
