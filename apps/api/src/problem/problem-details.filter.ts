import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { problem, ProblemError, type ProblemCode } from '@app/problem';
import { JsonTooDeepError, jsonTooDeep } from '../http/json-depth';
import { sendProblem } from './problem-response';

const CODE_BY_STATUS: Partial<Record<number, ProblemCode>> = {
  400: 'validation_failed',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'model_not_ready',
};

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

/** Renders every error as `application/problem+json` with a stable `code`; unknown errors become a 500 without internals. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    if (response.headersSent) {
      response.end();
      return;
    }
    sendProblem(response, this.toProblem(exception, request), request.originalUrl.split('?')[0]);
  }

  private toProblem(exception: unknown, request: Request): ProblemError {
    if (exception instanceof ProblemError) return exception;
    // Nest wraps body-parser's http-errors in an HttpException and keeps the original as `cause`.
    const parserError = (exception instanceof HttpException ? exception.cause : exception) as
      BodyParserError | undefined;
    if (parserError?.type === 'entity.too.large') {
      return problem(
        'payload_too_large',
        'The request body is larger than this service accepts; send a smaller image.',
      );
    }
    if (parserError instanceof JsonTooDeepError) return jsonTooDeep(parserError.maxDepth);
    if (parserError?.type === 'entity.parse.failed') {
      return problem('validation_failed', 'The request body is not valid JSON.');
    }
    if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') {
      return problem(
        'unsupported_media_type',
        'The request body encoding is not supported; send UTF-8 JSON.',
      );
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = CODE_BY_STATUS[status];
      if (status === 404)
        return problem('not_found', `There is no ${request.method} ${request.path} endpoint; see /docs.`);
      if (status === 413) {
        return problem(
          'too_large',
          'The uploaded image is larger than this service accepts; send a smaller image.',
        );
      }
      if (code) return problem(code, exception.message);
      return new ProblemError(status, `http_${status}`, exception.message, exception.message);
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return problem('internal_error', 'The server failed to handle this request; it has been logged.');
  }
}
