/** The server-rendered admin console. */
export { registerConsole } from './routes.js';
export type { ConsoleDeps } from './console-context.js';
