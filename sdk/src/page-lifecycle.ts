import { joinElection } from './leader-duties.js';
import { listen } from './listen.js';
import { enqueue, isLive, type TrackerContext } from './tracker-context.js';

/**
 * Sends what is queued when the page may go away: on `pagehide`, the only event Safari
 * fires reliably on close, and when the page becomes hidden, after which mobile browsers
 * may kill it without any event. No `unload` or `beforeunload` listener is added, because
 * either keeps the page out of the back/forward cache.
 */
export function watchPageLifecycle(ctx: TrackerContext): () => void {
  const onPageHide = () => leavePage(ctx, true);
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') leavePage(ctx, false);
    else ctx.isHidden = false;
  };
  const onPageShow = (event: PageTransitionEvent) => {
    ctx.isHidden = false;
    // A page restored from the back/forward cache posted `bye` and resigned on its pagehide.
    if (!event.persisted) return;
    ctx.tabRegistry.start();
    joinElection(ctx);
    ctx.idle.check();
    if (isLive(ctx)) enqueue(ctx, 'tab_opened', { tabs: ctx.tabRegistry.count() });
  };

  const removers = [
    listen(window, 'pagehide', onPageHide),
    listen(window, 'pageshow', onPageShow),
    listen(document, 'visibilitychange', onVisibility),
  ];

  return () => removers.forEach((remove) => remove());
}

/**
 * Closes activity windows and sends the queue by beacon, once per hide: a page that
 * becomes hidden and then fires `pagehide` sends only what was queued in between.
 * `isClosing` also reports the tab closed and gives up the lead, so another tab takes over.
 */
export function leavePage(ctx: TrackerContext, isClosing: boolean): void {
  if (ctx.isHidden && !isClosing) return;

  ctx.isHidden = true;
  ctx.activity.drain();
  if (ctx.sessionRecord && ctx.latestInputAt) ctx.store.update(ctx.sessionRecord.id, { lastActivityAt: ctx.latestInputAt });
  if (isClosing) {
    if (isLive(ctx)) enqueue(ctx, 'tab_closed', { tabs: Math.max(0, ctx.tabRegistry.count() - 1) });
    ctx.tabRegistry.stop();
    ctx.resign();
  }
  ctx.delivery.flushOnExit();
}

/**
 * Detaches everything the tracker attached and posts `bye` to other tabs. Delivery stops its
 * timer but can still send, because `end()` sends the queue afterwards.
 */
export function detachTracker(ctx: TrackerContext): void {
  ctx.trackerState = 'stopped';
  ctx.resign();
  ctx.isLeader = false;
  ctx.refresh();
  ctx.cleanups.splice(0).forEach((cleanup) => cleanup());
  ctx.activity.stop();
  ctx.idle.stop();
  ctx.tabRegistry.stop();
  ctx.delivery.stop();
  ctx.channel.close();
}
