/**
 * /metrics (Prometheus text format) and the health checks, on a listener of their own. Errors are
 * rendered like the API's, by the one renderer.
 */
import { createServer, type Server } from 'node:http';
import { errors } from '../errors/api-error.js';
import { toApiError } from '../http/error-translation.js';
import { answerHealth, HEALTH_PATHS, type HealthCheck } from '../http/health.js';
import { renderError } from '../http/render.js';
import { newRequestId } from '../http/request-id.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';

export function createMetricsServer(metrics: Metrics, health: HealthCheck, logger: Logger): Server {
  return createServer((req, res) => {
    const path = req.url?.split('?', 1)[0] ?? '/';
    const requestId = newRequestId();
    const headers = { 'Request-Id': requestId, 'Cache-Control': 'no-cache, no-store' };
    const answer = async () => {
      if (req.method === 'GET' && HEALTH_PATHS.has(path)) return answerHealth(path, health, res);
      if (req.method === 'GET' && path === '/metrics') {
        const text = await metrics.render();
        res.writeHead(200, { ...headers, 'Content-Type': metrics.contentType });
        res.end(text);
        return;
      }
      renderError(res, errors.unrecognizedUrl(req.method ?? 'GET', path.slice(0, 200)), headers);
    };
    answer().catch((error: unknown) => renderError(res, toApiError(error, logger, requestId), headers));
  });
}
