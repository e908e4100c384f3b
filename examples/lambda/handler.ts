/**
 * What you deploy: the example app as one Lambda function, configured by the function's
 * environment (`AWS_REGION`, every `AWS_COGNITO_*`, `SECRET_KEY`), behind an API Gateway HTTP
 * API's `$default` route (payload format 2.0) or a function URL. The guard is built once, outside
 * the handler, so warm invocations reuse its key and token caches.
 */
import type { APIGatewayProxyHandlerV2 } from 'aws-lambda';
import { fromEnv } from 'cognito-guard';
import { createExampleHandler } from './app.js';

export const handler: APIGatewayProxyHandlerV2 = createExampleHandler(fromEnv(process.env));
