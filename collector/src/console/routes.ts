import type { Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/app-env.js';
import { registerAssetRoutes } from './assets.js';
import { registerAuthRoutes } from './auth-routes.js';
import type { ConsoleContext, ConsoleDeps } from './console-context.js';
import { registerLiveRoutes } from './live-routes.js';
import { registerReportsRoutes } from './reports-routes.js';
import { registerSettingsRoutes } from './settings-routes.js';
import { SignInSessions } from './sign-in-sessions.js';

/**
 * Content Security Policy of console pages: scripts, styles and connections
 * from this origin only, no inline script, no framing. It backs up the HTML
 * escaping of client strings.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'same-origin');
    c.header('X-Content-Type-Options', 'nosniff');
    if (!c.req.path.startsWith('/console/assets/')) c.header('Cache-Control', 'no-store');
  };
}

/**
 * Registers the admin console under `/console`: sign-in with an admin or
 * analyst token, Live sessions and Settings (admin), Reports (both roles),
 * and the assets they load, all served from this origin.
 */
export function registerConsole(app: Hono<AppEnv>, deps: ConsoleDeps): void {
  const context: ConsoleContext = { app, deps, sessions: new SignInSessions({ now: deps.now }) };

  app.use('/console', securityHeaders());
  app.use('/console/*', securityHeaders());
  registerAssetRoutes(app);
  registerAuthRoutes(context);
  registerLiveRoutes(context);
  registerSettingsRoutes(context);
  registerReportsRoutes(context);
}
