import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { GqlContextType } from '@nestjs/graphql';
import type { FastifyReply } from 'fastify';
import { GraphQLError } from 'graphql';
import { DomainError, httpStatusOf, type ErrorCode } from './errors.js';

interface ClientError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly status: number;
}

/**
 * The one place where errors become answers. Resolvers and controllers never catch to
 * translate: they throw DomainErrors and this filter maps the code.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): unknown {
    const error = this.toClientError(exception);
    if (host.getType<GqlContextType>() === 'graphql') {
      return new GraphQLError(error.message, {
        extensions: { code: error.code, ...(error.details ? { details: error.details } : {}) },
      });
    }
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply
      .status(error.status)
      .send({ error: { code: error.code, message: error.message, details: error.details } });
    return undefined;
  }

  private toClientError(exception: unknown): ClientError {
    if (exception instanceof DomainError) {
      return {
        code: exception.code,
        message: exception.message,
        details: exception.details,
        status: httpStatusOf(exception.code),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { code: codeOfStatus(status), message: exception.message, status };
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return { code: 'INTERNAL', message: 'internal error', status: 500 };
  }
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status >= 400 && status < 500) return 'BAD_USER_INPUT';
  return 'INTERNAL';
}
