/**
 * An app that imports the SDK from npm. The import is typed: a wrong option
 * name or a wrong event payload fails the type check of this folder.
 */
import { init, type ProcessSessions, type TrackerSnapshot } from '@process-sessions/sdk';

/** Starts tracking and mirrors every state change into `render`. */
export function startTracking(
  endpoint: string,
  render: (snapshot: TrackerSnapshot) => void,
): ProcessSessions {
  const sessions = init({ endpoint, appId: 'npm-example', flushIntervalMs: 1000 });
  const update = () => render(sessions.getState());

  sessions.on('start', update);
  sessions.on('active', update);
  sessions.on('idle', update);
  sessions.on('tabs', update);
  sessions.on('warning', ({ remainingMs }) => {
    render({ ...sessions.getState(), state: 'warning' });
    document.title = `Idle in ${Math.ceil(remainingMs / 1000)} s`;
  });
  sessions.on('terminated', ({ reason }) => {
    update();
    document.title = `Session ended: ${reason}`;
  });
  sessions.track('npm_example_loaded', { framework: 'none' });
  update();

  return sessions;
}

const output = document.getElementById('state');
if (output) {
  (window as unknown as { npmExample: ProcessSessions }).npmExample = startTracking(
    location.origin,
    (snapshot) => {
      output.textContent = JSON.stringify(snapshot, null, 2);
    },
  );
}
