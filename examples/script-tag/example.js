// Renders the SDK's live state on the example page. The SDK script tag runs
// first and sets window.processSessions; without it the page says why.
(function renderLiveState() {
  const sessions = window.processSessions;
  const byId = (id) => document.getElementById(id);

  if (!sessions) {
    byId('session-state').textContent = 'SDK not loaded: see the browser console';
    return;
  }

  let interactions = 0;
  let warningDeadline = null;

  function render() {
    const state = sessions.getState();

    byId('session-id').textContent = state.sessionId ?? '–';
    byId('tab-id').textContent = state.tabId ?? '–';
    byId('session-state').textContent = state.state;
    byId('tab-count').textContent = String(state.tabs);
    byId('interaction-count').textContent = String(interactions);

    const idleInMs = state.idleDeadline ? state.idleDeadline - Date.now() : null;
    byId('idle-countdown').textContent =
      idleInMs === null || state.state === 'terminated' ? '–' : `${Math.max(0, Math.ceil(idleInMs / 1000))} s`;

    const warningLeftMs = warningDeadline === null ? 0 : warningDeadline - Date.now();
    byId('warning-banner').hidden = state.state !== 'warning' || warningLeftMs <= 0;
    byId('warning-seconds').textContent = String(Math.max(0, Math.ceil(warningLeftMs / 1000)));
  }

  sessions.on('warning', (detail) => {
    warningDeadline = detail && detail.idleAt ? detail.idleAt : state().idleDeadline;
    render();
  });
  sessions.on('active', () => {
    warningDeadline = null;
    byId('ended-banner').hidden = true;
    render();
  });
  sessions.on('start', () => {
    byId('ended-banner').hidden = true;
    render();
  });
  sessions.on('idle', () => {
    byId('ended-reason').textContent = 'idle';
    byId('ended-banner').hidden = false;
    render();
  });
  sessions.on('tabs', render);
  sessions.on('terminated', (detail) => {
    byId('ended-reason').textContent = (detail && detail.reason) || 'ended';
    byId('ended-banner').hidden = false;
    render();
  });

  for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
    addEventListener(type, () => (interactions += 1), { passive: true });
  }
  byId('track-button').addEventListener('click', () => {
    sessions.track('example_button', { clickedAt: new Date().toISOString() });
  });

  function state() {
    return sessions.getState();
  }

  render();
  setInterval(render, 500);
})();
