// Keeps the Live sessions table current from the console's live stream.
// Every value from the stream is set with textContent or as a URL
// parameter, never as HTML, because user ids and app names come from clients.
(function followLiveSessions() {
  const table = document.querySelector('#live-sessions tbody');
  const count = document.getElementById('live-count');
  const status = document.getElementById('live-status');
  if (!table || !count || !status) return;

  function cell(text, className) {
    const td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function terminateLink(label, className, params) {
    const link = document.createElement('a');
    link.className = `button ${className}`;
    link.href = `/console/live/terminate?${new URLSearchParams(params).toString()}`;
    link.textContent = label;
    return link;
  }

  function addRow(session) {
    if (table.querySelector(`tr[data-session-id="${CSS.escape(session.id)}"]`)) return;
    const row = document.createElement('tr');
    row.dataset.sessionId = session.id;
    row.append(
      cell(session.id, 'mono'),
      cell(session.userId ?? 'anonymous', session.userId === null ? 'muted' : ''),
      cell(session.appId),
      cell(session.userGroup ?? ''),
      cell(`${new Date(session.startedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC`),
      cell(String(session.tabsNow), 'num'),
    );
    const actions = cell('', 'actions');
    actions.append(terminateLink('Terminate', 'danger', { sessionId: session.id }));
    if (session.userId !== null) {
      actions.append(terminateLink('All of user', 'danger-outline', { userId: session.userId }));
    }
    row.append(actions);
    table.prepend(row);
  }

  function removeRow(id) {
    table.querySelector(`tr[data-session-id="${CSS.escape(id)}"]`)?.remove();
  }

  const source = new EventSource('/console/live/stream');
  source.addEventListener('open', () => {
    status.textContent = ' · updating live';
  });
  source.addEventListener('error', () => {
    status.textContent = ' · reconnecting…';
  });
  source.addEventListener('live', (event) => {
    count.textContent = String(JSON.parse(event.data).live);
  });
  source.addEventListener('start', (event) => {
    const change = JSON.parse(event.data);
    addRow(change.session);
    count.textContent = String(change.live);
  });
  source.addEventListener('end', (event) => {
    const change = JSON.parse(event.data);
    removeRow(change.id);
    count.textContent = String(change.live);
  });
})();
