// Renders the SDK's live state on the example page. The SDK script tag runs
// first and sets window.processSessions; without it the page says why.
(function renderLiveState() {
  const sessions = window.processSessions;
  const byId = (id) => document.getElementById(id);

  if (!sessions) {
    byId('session-state').textContent = 'SDK not loaded: see the browser console';
    return;
  }

  // After these reasons the SDK starts no new session on input; a reload does.
  const FINAL_REASONS = ['logout', 'evicted', 'disabled', 'session_limit'];
  let interactions = 0;

  function showEnded(reason) {
    byId('ended-reason').textContent = reason;
    byId('ended-hint').textContent = FINAL_REASONS.includes(reason)
      ? 'Reload the page to start a new one.'
      : 'Interact with the page to start a new one.';
    byId('ended-banner').hidden = false;
  }
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
    showEnded('idle');
    render();
  });
  sessions.on('tabs', render);
  sessions.on('terminated', (detail) => {
    showEnded((detail && detail.reason) || 'ended');
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
